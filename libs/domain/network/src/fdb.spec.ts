import fc from 'fast-check';
import { FLOODING_IP, FLOODING_MAC, computeFdb, computeHostFdb, networksReachedByRouters, type FdbEntry, type PortBinding } from './fdb';
import { applyFdbDiff, diffFdb } from './fdb-diff';
import { arpResponderFromFdb, computeArpResponder } from './arp-responder';

const vteps = new Map([
  ['h1', '192.0.2.1'],
  ['h2', '192.0.2.2'],
  ['h3', '192.0.2.3'],
]);
const bind = (portId: string, networkId: string, hostId: string, n: number): PortBinding => ({
  portId,
  networkId,
  segmentationId: networkId === 'netA' ? 1001 : 1002,
  macAddress: `fa:16:3e:00:00:0${n}`,
  ipAddress: `10.0.0.${n}`,
  hostId,
});
const flood = (networkId: string, vni: number, tunnelIp: string): FdbEntry => ({
  networkId, segmentationId: vni, tunnelIp, macAddress: FLOODING_MAC, ipAddress: FLOODING_IP,
});

describe('computeHostFdb (l2pop)', () => {
  // netA: p1 on h1, p2 + p3 on h2. netB: p4 on h2, p5 on h3.
  const bindings = [
    bind('p1', 'netA', 'h1', 1),
    bind('p2', 'netA', 'h2', 2),
    bind('p3', 'netA', 'h2', 3),
    bind('p4', 'netB', 'h2', 4),
    bind('p5', 'netB', 'h3', 5),
  ];

  it('h1 gets one flooding entry to h2 plus h2 ports on netA, nothing of netB nor its own port', () => {
    expect(computeHostFdb('h1', bindings, vteps)).toEqual([
      flood('netA', 1001, '192.0.2.2'),
      { networkId: 'netA', segmentationId: 1001, tunnelIp: '192.0.2.2', macAddress: 'fa:16:3e:00:00:02', ipAddress: '10.0.0.2', portId: 'p2' },
      { networkId: 'netA', segmentationId: 1001, tunnelIp: '192.0.2.2', macAddress: 'fa:16:3e:00:00:03', ipAddress: '10.0.0.3', portId: 'p3' },
    ]);
  });

  it('h2 has ports on both networks, so gets remote entries for both', () => {
    expect(computeHostFdb('h2', bindings, vteps)).toEqual([
      flood('netA', 1001, '192.0.2.1'),
      { networkId: 'netA', segmentationId: 1001, tunnelIp: '192.0.2.1', macAddress: 'fa:16:3e:00:00:01', ipAddress: '10.0.0.1', portId: 'p1' },
      flood('netB', 1002, '192.0.2.3'),
      { networkId: 'netB', segmentationId: 1002, tunnelIp: '192.0.2.3', macAddress: 'fa:16:3e:00:00:05', ipAddress: '10.0.0.5', portId: 'p5' },
    ]);
  });

  it('a host alone on a network, or with no ports, or with no VTEP, gets nothing', () => {
    expect(computeHostFdb('h1', [bind('p1', 'netA', 'h1', 1)], vteps)).toEqual([]);
    expect(computeHostFdb('h3', [bind('p1', 'netA', 'h1', 1), bind('p2', 'netA', 'h2', 2)], vteps)).toEqual([]);
    expect(computeHostFdb('h9', [...bindings, bind('p9', 'netA', 'h9', 9)], vteps)).toEqual([]);
  });

  it('a distributed router: h1 (netA only) also gets netB\'s remote ports when a router joins netA and netB', () => {
    const routed = networksReachedByRouters(['netA'], [['netA', 'netB'], ['netC', 'netD']]);
    expect([...routed]).toEqual(['netB']);
    expect(computeHostFdb('h1', bindings, vteps, routed)).toEqual([
      ...computeHostFdb('h1', bindings, vteps),
      flood('netB', 1002, '192.0.2.2'),
      { networkId: 'netB', segmentationId: 1002, tunnelIp: '192.0.2.2', macAddress: 'fa:16:3e:00:00:04', ipAddress: '10.0.0.4', portId: 'p4' },
      flood('netB', 1002, '192.0.2.3'),
      { networkId: 'netB', segmentationId: 1002, tunnelIp: '192.0.2.3', macAddress: 'fa:16:3e:00:00:05', ipAddress: '10.0.0.5', portId: 'p5' },
    ]);
    expect([...networksReachedByRouters(['netA'], [['netB', 'netC']])]).toEqual([]);
  });

  it('ignores ports on hosts without a VTEP', () => {
    expect(computeHostFdb('h1', [bind('p1', 'netA', 'h1', 1), bind('p9', 'netA', 'h9', 9)], vteps)).toEqual([]);
  });

  it('computeFdb answers every VTEP host, [] included', () => {
    const all = computeFdb(bindings, vteps);
    expect([...all.keys()]).toEqual(['h1', 'h2', 'h3']);
    expect(all.get('h3')).toEqual(computeHostFdb('h3', bindings, vteps));
    expect(all.get('h3')).toHaveLength(2);
  });

  it('ARP responder holds ip -> mac of remote ports per network', () => {
    const arp = computeArpResponder('h2', bindings, vteps);
    expect(arp).toEqual(
      new Map([
        ['netA', new Map([['10.0.0.1', 'fa:16:3e:00:00:01']])],
        ['netB', new Map([['10.0.0.5', 'fa:16:3e:00:00:05']])],
      ]),
    );
    expect(arpResponderFromFdb([flood('netA', 1001, '192.0.2.2')])).toEqual(new Map());
  });
});

describe('diffFdb / applyFdbDiff', () => {
  it('a port move is one removal at the old VTEP and one addition at the new one', () => {
    const before = computeHostFdb('h1', [bind('p1', 'netA', 'h1', 1), bind('p2', 'netA', 'h2', 2), bind('p3', 'netA', 'h3', 3)], vteps);
    const after = computeHostFdb('h1', [bind('p1', 'netA', 'h1', 1), bind('p2', 'netA', 'h3', 2), bind('p3', 'netA', 'h3', 3)], vteps);
    const diff = diffFdb(before, after);
    expect(diff.add).toEqual([
      { networkId: 'netA', segmentationId: 1001, tunnelIp: '192.0.2.3', macAddress: 'fa:16:3e:00:00:02', ipAddress: '10.0.0.2', portId: 'p2' },
    ]);
    expect(diff.remove).toEqual([
      flood('netA', 1001, '192.0.2.2'),
      { networkId: 'netA', segmentationId: 1001, tunnelIp: '192.0.2.2', macAddress: 'fa:16:3e:00:00:02', ipAddress: '10.0.0.2', portId: 'p2' },
    ]);
    expect(applyFdbDiff(before, diff)).toEqual(after);
  });

  it('applying a diff twice is harmless', () => {
    const a = [flood('netA', 1001, '192.0.2.2')];
    const b = [flood('netA', 1001, '192.0.2.3')];
    const d = diffFdb(a, b);
    expect(applyFdbDiff(applyFdbDiff(a, d), d)).toEqual(b);
  });
});

describe('property: incremental FDB equals freshly computed FDB', () => {
  type Op =
    | { kind: 'bind'; port: number; network: 'netA' | 'netB'; host: string }
    | { kind: 'move'; port: number; host: string }
    | { kind: 'unbind'; port: number };
  const host = fc.constantFrom('h1', 'h2', 'h3', 'h4'); // h4 has no VTEP
  const port = fc.integer({ min: 1, max: 6 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('bind' as const), port, network: fc.constantFrom('netA' as const, 'netB' as const), host }),
    fc.record({ kind: fc.constant('move' as const), port, host }),
    fc.record({ kind: fc.constant('unbind' as const), port }),
  );

  it('after any sequence of bind/move/unbind', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const ports = new Map<number, PortBinding>();
        let computed = computeFdb([], vteps);
        const tables = new Map<string, FdbEntry[]>([...vteps.keys()].map((h) => [h, []]));
        for (const o of ops) {
          const existing = ports.get(o.port);
          if (o.kind === 'bind') ports.set(o.port, bind(`p${o.port}`, o.network, o.host, o.port));
          else if (o.kind === 'move' && existing) ports.set(o.port, { ...existing, hostId: o.host });
          else if (o.kind === 'unbind') ports.delete(o.port);
          const next = computeFdb([...ports.values()], vteps);
          for (const h of vteps.keys()) {
            tables.set(h, applyFdbDiff(tables.get(h)!, diffFdb(computed.get(h)!, next.get(h)!)));
          }
          computed = next;
          for (const h of vteps.keys()) {
            const fresh = computeHostFdb(h, [...ports.values()], vteps);
            expect(tables.get(h)).toEqual(fresh);
            // l2pop invariants: nothing towards itself, one flooding entry per (network, remote VTEP).
            expect(fresh.some((e) => e.tunnelIp === vteps.get(h))).toBe(false);
            const floods = fresh.filter((e) => e.macAddress === FLOODING_MAC).map((e) => `${e.networkId}|${e.tunnelIp}`);
            const remotes = new Set(fresh.map((e) => `${e.networkId}|${e.tunnelIp}`));
            expect(floods.sort()).toEqual([...remotes].sort());
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
