import { seededRng } from '@minicloud/domain-clock';
import fc from 'fast-check';
import { usableCapacity } from './capacity';
import { defaultScheduler } from './default-scheduler';
import { HostState } from './host-state';
import { NoValidHostError } from './no-valid-host-error';
import { RequestSpec, ServerGroupSpec } from './request-spec';
import { makeHost, makeSpec } from './testing';

const ratio = fc.constantFrom(1, 1.5, 2, 4, 16);

/** Hosts start within capacity (used <= usable) so the invariant is about the scheduler's picks. */
const hostArb = (i: number): fc.Arbitrary<HostState> =>
  fc
    .record({
      vcpusTotal: fc.integer({ min: 1, max: 64 }),
      ramMbTotal: fc.integer({ min: 512, max: 262144 }),
      ramMbReserved: fc.integer({ min: 0, max: 4096 }),
      diskGbTotal: fc.integer({ min: 10, max: 4000 }),
      cpuAllocationRatio: ratio,
      ramAllocationRatio: ratio,
      diskAllocationRatio: ratio,
      aggRatio: fc.option(ratio, { nil: undefined }),
      usedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      enabled: fc.boolean(),
      up: fc.boolean(),
      groupMembers: fc.integer({ min: 0, max: 2 }),
    })
    .map((r) => {
      const base = makeHost({
        hostId: `h${i}`,
        ...r,
        aggregates: r.aggRatio === undefined ? [] : [{ id: 'agg', metadata: { cpu_allocation_ratio: String(r.aggRatio), ram_allocation_ratio: String(r.aggRatio) } }],
        enabled: r.enabled || i === 0,
        up: r.up || i === 0,
        serverGroupMembers: r.groupMembers > 0 ? { g: r.groupMembers } : undefined,
      });
      return {
        ...base,
        vcpusUsed: Math.floor(usableCapacity(base, 'vcpu') * r.usedFraction),
        ramMbUsed: Math.floor(usableCapacity(base, 'ram') * r.usedFraction),
        diskGbUsed: Math.floor(usableCapacity(base, 'disk') * r.usedFraction),
      };
    });

const hostsArb = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(i))));

const specArb: fc.Arbitrary<RequestSpec> = fc
  .record({
    numInstances: fc.integer({ min: 1, max: 8 }),
    vcpus: fc.integer({ min: 1, max: 16 }),
    ramMb: fc.integer({ min: 1, max: 32768 }),
    diskGb: fc.integer({ min: 0, max: 500 }),
    policy: fc.constantFrom<ServerGroupSpec['policy'] | undefined>(undefined, 'affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'),
  })
  .map((r) =>
    makeSpec({
      numInstances: r.numInstances,
      flavor: { vcpus: r.vcpus, ramMb: r.ramMb, diskGb: r.diskGb, extraSpecs: {} },
      serverGroup: r.policy ? { id: 'g', policy: r.policy, hostIds: [] } : undefined,
    }),
  );

function place(hosts: HostState[], spec: RequestSpec, seed: number) {
  try {
    return defaultScheduler({ rng: seededRng(seed), hostSubsetSize: 2 }).selectDestinations(hosts, spec);
  } catch (e) {
    if (e instanceof NoValidHostError) return e;
    throw e;
  }
}

describe('scheduler properties', () => {
  it('places exactly numInstances, and no chosen host exceeds (total - reserved) x ratio after consumption', () => {
    fc.assert(
      fc.property(hostsArb, specArb, fc.integer(), (hosts, spec, seed) => {
        const result = place(hosts, spec, seed);
        if (result instanceof NoValidHostError) return;
        expect(result).toHaveLength(spec.numInstances);
        const count = new Map<string, number>();
        for (const s of result) count.set(s.hostId, (count.get(s.hostId) ?? 0) + 1);
        for (const [hostId, n] of count) {
          const h = hosts.find((x) => x.hostId === hostId)!;
          expect(h.enabled && h.up).toBe(true);
          expect(h.vcpusUsed + n * spec.flavor.vcpus).toBeLessThanOrEqual(usableCapacity(h, 'vcpu') + 1e-9);
          expect(h.ramMbUsed + n * spec.flavor.ramMb).toBeLessThanOrEqual(usableCapacity(h, 'ram') + 1e-9);
          expect(h.diskGbUsed + n * spec.flavor.diskGb).toBeLessThanOrEqual(usableCapacity(h, 'disk') + 1e-9);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hard anti-affinity never co-locates members (nor uses a host that already holds one)', () => {
    fc.assert(
      fc.property(hostsArb, specArb, fc.integer(), (hosts, spec, seed) => {
        const anti = { ...spec, serverGroup: { id: 'g', policy: 'anti-affinity' as const, hostIds: [] } };
        const result = place(hosts, anti, seed);
        if (result instanceof NoValidHostError) {
          expect(result.rejections.length).toBe(hosts.length);
          return;
        }
        const chosen = result.map((s) => s.hostId);
        expect(new Set(chosen).size).toBe(chosen.length);
        for (const id of chosen) expect(hosts.find((h) => h.hostId === id)!.serverGroupMembers?.['g'] ?? 0).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('either places all N or throws NoValidHost; the input hosts are never mutated', () => {
    fc.assert(
      fc.property(hostsArb, specArb, fc.integer(), (hosts, spec, seed) => {
        const before = JSON.stringify(hosts.map((h) => ({ ...h, instanceIds: [...h.instanceIds] })));
        const result = place(hosts, spec, seed);
        if (result instanceof NoValidHostError) {
          expect(result.reason).toBe('no_valid_host');
          expect(result.instanceIndex).toBeLessThan(spec.numInstances);
        } else {
          expect(result).toHaveLength(spec.numInstances);
        }
        expect(JSON.stringify(hosts.map((h) => ({ ...h, instanceIds: [...h.instanceIds] })))).toBe(before);
      }),
      { numRuns: 200 },
    );
  });
});
