import fc from 'fast-check';
import { applyFdbDelta, applyFdbDiff, arpResponderFromFdb, diffFdb, type FdbDelta, type FdbEntry } from '@minicloud/domain-network';
import { VirtualSwitch } from './virtual-switch';

const entry = (n: number, tunnel: number, flood = false): FdbEntry => ({
  networkId: `net-${n % 2}`,
  segmentationId: 1000 + (n % 2),
  tunnelIp: `10.0.0.${tunnel}`,
  macAddress: flood ? '00:00:00:00:00:00' : `fa:16:3e:00:00:${(n % 256).toString(16).padStart(2, '0')}`,
  ipAddress: flood ? '0.0.0.0' : `192.168.0.${n % 7}`,
  portId: flood ? '' : `port-${n}`,
});

const entryArb = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 3 }), fc.boolean()).map(([n, t, f]) => entry(n, t, f));
const listArb = fc.array(entryArb, { maxLength: 6 });
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('delta' as const), add: listArb, remove: listArb, localPortsAdd: listArb, localPortsRemove: listArb }),
  fc.record({ kind: fc.constant('table' as const), fdb: listArb, vnics: listArb }),
);

describe('VirtualSwitch', () => {
  it('keeps the same FDB, vNICs and ARP responder as re-applying whole tables, for any sequence of deltas and full tables', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), (steps) => {
        const vs = new VirtualSwitch('h1', '10.0.0.1');
        let ref = { fdb: [] as FdbEntry[], localPorts: [] as FdbEntry[] };
        steps.forEach((s, i) => {
          if (s.kind === 'delta') {
            const delta: FdbDelta = { add: s.add, remove: s.remove, localPortsAdd: s.localPortsAdd, localPortsRemove: s.localPortsRemove };
            vs.applyDelta(delta, i);
            ref = applyFdbDelta(ref, delta);
          } else {
            vs.apply(s.fdb, s.vnics, i);
            ref = { fdb: applyFdbDiff(ref.fdb, diffFdb(ref.fdb, s.fdb)), localPorts: applyFdbDiff(ref.localPorts, diffFdb(ref.localPorts, s.vnics)) };
          }
          if (i % 3 === 0) {
            expect(vs.fdb).toEqual(ref.fdb);
            expect(vs.vnics).toEqual(ref.localPorts);
            expect(vs.arp).toEqual(arpResponderFromFdb(ref.fdb));
            expect(vs.fdbSize).toBe(ref.fdb.length);
          }
        });
        expect(vs.fdb).toEqual(ref.fdb);
        expect(vs.vnics).toEqual(ref.localPorts);
        expect(vs.arp).toEqual(arpResponderFromFdb(ref.fdb));
        expect(vs.generation).toBe(steps.length - 1);
      }),
    );
  });

  it('ignores a full table older than the generation applied, unless it is a resync', () => {
    const vs = new VirtualSwitch('h1', '10.0.0.1');
    vs.apply([entry(1, 2)], [], 5);
    expect(vs.apply([], [], 4)).toBe(false);
    expect(vs.fdb).toEqual([entry(1, 2)]);
    expect(vs.apply([], [], 4, true)).toBe(true);
    expect(vs.fdb).toEqual([]);
  });
});
