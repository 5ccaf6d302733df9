import fc from 'fast-check';
import { computeHostFdb, type FdbEntry, type PortBinding } from './fdb';
import { EMPTY_FDB_DELTA, FdbSequencer, MAX_HELD_FDB_DELTAS, applyFdbDelta, fdbDeltaFor, type FdbDelta, type PortBindingChange } from './fdb-delta';
import { computeHostLocalPorts } from './local-ports';

// h4 has no VTEP: its ports cannot be tunnelled to.
const vteps = new Map([
  ['h1', '192.0.2.1'],
  ['h2', '192.0.2.2'],
  ['h3', '192.0.2.3'],
]);
const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const NET = 'net';
const VNI = 1001;

interface PortState {
  hostId: string;
  ips: string[];
}

function bindingsOf(ports: Map<string, PortState>): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [portId, p] of ports) {
    if (!p.hostId) continue;
    for (const ipAddress of p.ips.length ? p.ips : ['']) out.push({ portId, networkId: NET, segmentationId: VNI, macAddress: `mac-${portId}`, ipAddress, hostId: p.hostId });
  }
  return out;
}

function tablesOf(host: string, ports: Map<string, PortState>): { fdb: FdbEntry[]; localPorts: FdbEntry[] } {
  const b = bindingsOf(ports);
  return { fdb: computeHostFdb(host, b, vteps), localPorts: computeHostLocalPorts(host, b, vteps) };
}

function othersOn(ports: Map<string, PortState>, hostId: string, except: string): number {
  return [...ports].filter(([id, p]) => id !== except && p.hostId === hostId).length;
}

/** The change as the network service describes it, from the port's state before and after. */
function changeOf(portId: string, ports: Map<string, PortState>, prev: PortState | undefined, next: PortState | undefined): PortBindingChange {
  return {
    portId,
    networkId: NET,
    segmentationId: VNI,
    overlay: true,
    macAddress: `mac-${portId}`,
    ...(prev?.hostId ? { before: { hostId: prev.hostId, tunnelIp: vteps.get(prev.hostId) ?? '', ipAddresses: prev.ips, otherPortsOnNetwork: othersOn(ports, prev.hostId, portId) } } : {}),
    ...(next?.hostId ? { after: { hostId: next.hostId, tunnelIp: vteps.get(next.hostId) ?? '', ipAddresses: next.ips, otherPortsOnNetwork: othersOn(ports, next.hostId, portId) } } : {}),
  };
}

const entry = (tunnelIp: string, portId: string, ipAddress: string): FdbEntry => ({ networkId: NET, segmentationId: VNI, tunnelIp, macAddress: `mac-${portId}`, ipAddress, portId });
const flood = (tunnelIp: string): FdbEntry => ({ networkId: NET, segmentationId: VNI, tunnelIp, macAddress: '00:00:00:00:00:00', ipAddress: '0.0.0.0' });

describe('fdbDeltaFor (l2pop deltas)', () => {
  it('a port bound on a host new to the network: peers get its entry and the flooding entry; the host itself re-reads', () => {
    const ports = new Map<string, PortState>([['p1', { hostId: 'h1', ips: ['10.0.0.1'] }]]);
    const c = changeOf('p2', ports, undefined, { hostId: 'h2', ips: ['10.0.0.2'] });
    expect(fdbDeltaFor('h1', c)).toEqual({ add: [flood('192.0.2.2'), entry('192.0.2.2', 'p2', '10.0.0.2')], remove: [], localPortsAdd: [], localPortsRemove: [] });
    expect(fdbDeltaFor('h2', c)).toBeUndefined();
  });

  it('a second port on the same host: no new flooding entry, and the host gets its local port as a delta', () => {
    const ports = new Map<string, PortState>([
      ['p1', { hostId: 'h1', ips: ['10.0.0.1'] }],
      ['p2', { hostId: 'h2', ips: ['10.0.0.2'] }],
    ]);
    const c = changeOf('p3', ports, undefined, { hostId: 'h2', ips: ['10.0.0.3'] });
    expect(fdbDeltaFor('h1', c)).toEqual({ add: [entry('192.0.2.2', 'p3', '10.0.0.3')], remove: [], localPortsAdd: [], localPortsRemove: [] });
    expect(fdbDeltaFor('h2', c)).toEqual({ add: [], remove: [], localPortsAdd: [entry('192.0.2.2', 'p3', '10.0.0.3')], localPortsRemove: [] });
  });

  it('a move is one removal towards the old VTEP and one addition towards the new one', () => {
    const ports = new Map<string, PortState>([
      ['p1', { hostId: 'h1', ips: ['10.0.0.1'] }],
      ['p2', { hostId: 'h2', ips: ['10.0.0.2'] }],
      ['p4', { hostId: 'h2', ips: ['10.0.0.4'] }],
      ['p3', { hostId: 'h3', ips: ['10.0.0.3'] }],
    ]);
    const c = changeOf('p2', ports, ports.get('p2'), { hostId: 'h3', ips: ['10.0.0.2'] });
    expect(fdbDeltaFor('h1', c)).toEqual({ add: [entry('192.0.2.3', 'p2', '10.0.0.2')], remove: [entry('192.0.2.2', 'p2', '10.0.0.2')], localPortsAdd: [], localPortsRemove: [] });
  });

  it('ownHostsResync makes the port\'s own hosts re-read; a network without an overlay moves only the generation', () => {
    const ports = new Map<string, PortState>([['p1', { hostId: 'h1', ips: [] }], ['p2', { hostId: 'h2', ips: [] }]]);
    const c = changeOf('p3', ports, undefined, { hostId: 'h2', ips: [] });
    expect(fdbDeltaFor('h2', { ...c, ownHostsResync: true })).toBeUndefined();
    expect(fdbDeltaFor('h1', { ...c, ownHostsResync: true })).toEqual({ add: [entry('192.0.2.2', 'p3', '')], remove: [], localPortsAdd: [], localPortsRemove: [] });
    expect(fdbDeltaFor('h1', { ...c, overlay: false })).toBe(EMPTY_FDB_DELTA);
  });

  // The property that makes deltas safe: for every host that holds the network before or after a
  // change, the delta (when there is one) turns its tables before into exactly its tables after.
  it('applied to the tables before any change, a delta gives exactly the tables computeHostFdb gives after it', () => {
    const op = fc.record({
      port: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5'),
      host: fc.constantFrom('', 'h1', 'h2', 'h3', 'h4'),
      ips: fc.subarray(['10.0.0.1', '10.0.0.2', '10.0.0.3']),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
        const ports = new Map<string, PortState>();
        for (const o of ops) {
          const prev = ports.get(o.port);
          const next = o.remove ? undefined : { hostId: o.host, ips: o.ips };
          if (!prev?.hostId && !next?.hostId) {
            if (next) ports.set(o.port, next);
            else ports.delete(o.port);
            continue;
          }
          const before = new Map(HOSTS.map((h) => [h, tablesOf(h, ports)]));
          const hostsBefore = new Set([...ports.values()].map((p) => p.hostId));
          const c = changeOf(o.port, ports, prev, next);
          if (next) ports.set(o.port, next);
          else ports.delete(o.port);
          const hostsAfter = new Set([...ports.values()].map((p) => p.hostId));
          for (const h of HOSTS) {
            const after = tablesOf(h, ports);
            // The service bumps the hosts on the network after the change plus the port's old and new host.
            if (!hostsBefore.has(h) && !hostsAfter.has(h)) {
              expect(after).toEqual(before.get(h));
              continue;
            }
            // A host without a VTEP has no agent applying deltas (they are applied only after RegisterVtep).
            if (!vteps.has(h)) continue;
            const d = fdbDeltaFor(h, c);
            if (d === undefined) {
              expect([prev?.hostId, next?.hostId]).toContain(h);
              continue;
            }
            expect(applyFdbDelta(before.get(h)!, d)).toEqual(after);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

const d = (n: number): FdbDelta => ({ add: [entry('192.0.2.9', `p${n}`, `10.0.9.${n}`)], remove: [], localPortsAdd: [], localPortsRemove: [] });

describe('FdbSequencer (per-host generation)', () => {
  it('applies the next generation at once and ignores what it already has', () => {
    const s = new FdbSequencer(4);
    expect(s.offer(5, d(5))).toEqual({ kind: 'apply', deltas: [{ generation: 5, delta: d(5) }] });
    expect(s.generation).toBe(5);
    expect(s.offer(5, d(5))).toEqual({ kind: 'ignore' });
    expect(s.offer(3, d(3))).toEqual({ kind: 'ignore' });
  });

  it('holds a delta that overtook another and applies both in order when the missing one comes', () => {
    const s = new FdbSequencer(4);
    expect(s.offer(6, d(6))).toEqual({ kind: 'wait' });
    expect(s.offer(7, d(7))).toEqual({ kind: 'wait' });
    expect(s.waiting).toBe(true);
    expect(s.offer(5, d(5))).toEqual({ kind: 'apply', deltas: [5, 6, 7].map((g) => ({ generation: g, delta: d(g) })) });
    expect(s.generation).toBe(7);
    expect(s.waiting).toBe(false);
  });

  it('an event without a delta, no table yet, or too many held deltas ask for a full re-read', () => {
    expect(new FdbSequencer(4).offer(5)).toEqual({ kind: 'resync' });
    expect(new FdbSequencer(-1).offer(1, d(1))).toEqual({ kind: 'resync' });
    const s = new FdbSequencer(0);
    for (let g = 2; g <= MAX_HELD_FDB_DELTAS + 1; g++) expect(s.offer(g, d(g))).toEqual({ kind: 'wait' });
    expect(s.offer(MAX_HELD_FDB_DELTAS + 2, d(0))).toEqual({ kind: 'resync' });
  });

  it('after a re-read, held deltas at or below its generation are dropped and the ones that follow it applied', () => {
    const s = new FdbSequencer(4);
    s.offer(6, d(6));
    s.offer(8, d(8));
    s.offer(9, d(9));
    expect(s.resynced(7)).toEqual({ install: true, deltas: [8, 9].map((g) => ({ generation: g, delta: d(g) })) });
    expect(s.generation).toBe(9);
    expect(s.waiting).toBe(false);
  });

  it('a re-read older than the tables held is not installed', () => {
    const s = new FdbSequencer(4);
    s.offer(5, d(5));
    expect(s.resynced(4)).toEqual({ install: false, deltas: [] });
    expect(s.generation).toBe(5);
  });
});
