import { seededRng } from '@minicloud/domain-clock';
import { DEFAULT_FILTERS, defaultScheduler, defaultWeighers } from './default-scheduler';
import { makeHost, makeSpec } from './testing';

describe('defaultScheduler', () => {
  it('wires every standard filter and weigher with Nova default multipliers', () => {
    expect(DEFAULT_FILTERS.map((f) => f.name)).toEqual([
      'ComputeFilter',
      'AvailabilityZoneFilter',
      'MemoryStateFilter',
      'RamFilter',
      'CoreFilter',
      'DiskFilter',
      'AggregateInstanceExtraSpecsFilter',
      'ImagePropertiesFilter',
      'CpuModelFilter',
      'ServerGroupAntiAffinityFilter',
      'ServerGroupAffinityFilter',
      'DifferentHostFilter',
      'SameHostFilter',
    ]);
    expect(defaultWeighers().map((w) => [w.name, w.configuredMultiplier])).toEqual([
      ['RAMWeigher', 1],
      ['CPUWeigher', 1],
      ['DiskWeigher', 1],
      ['NumInstancesWeigher', 0],
      ['IoOpsWeigher', -1],
      ['ServerGroupSoftAffinityWeigher', 1],
      ['ServerGroupSoftAntiAffinityWeigher', 1],
      ['BuildFailureWeigher', 1_000_000],
    ]);
    expect(defaultWeighers({ ram: -1 })[0].configuredMultiplier).toBe(-1);
  });

  it.each([
    { name: 'spreads by default', multipliers: undefined, distinct: 3 },
    { name: 'packs with negative RAM/CPU/disk multipliers', multipliers: { ram: -1, cpu: -1, disk: -1 }, distinct: 1 },
  ])('$name', ({ multipliers, distinct }) => {
    const hosts = ['a', 'b', 'c'].map((hostId) => makeHost({ hostId }));
    const s = defaultScheduler({ rng: seededRng(1), weightMultipliers: multipliers });
    const picks = s.selectDestinations(hosts, makeSpec({ numInstances: 3 }));
    expect(new Set(picks.map((p) => p.hostId)).size).toBe(distinct);
  });

  it('prefers the roomier host while it stays roomier (RAM, CPU and disk weighers agree)', () => {
    const hosts = [
      makeHost({ hostId: 'small', ramMbTotal: 4096, vcpusTotal: 4, diskGbTotal: 100 }),
      makeHost({ hostId: 'big', ramMbTotal: 8192, vcpusTotal: 8, diskGbTotal: 200 }),
    ];
    const spec = makeSpec({ numInstances: 3, flavor: { vcpus: 1, ramMb: 2048, diskGb: 10, extraSpecs: {} } });
    // big 8192 -> 6144 -> 4096 MB free: still ahead of small on every weigher until the third pick ties RAM.
    expect(defaultScheduler({ rng: seededRng(1) }).selectDestinations(hosts, spec).map((p) => p.hostId)).toEqual(['big', 'big', 'big']);
  });

  it('soft-anti-affinity spreads a group; soft-affinity (multiplier 10 beats the spreading weighers) keeps it together', () => {
    const hosts = ['a', 'b', 'c'].map((hostId) => makeHost({ hostId }));
    const s = defaultScheduler({ rng: seededRng(7), weightMultipliers: { softAffinity: 10, softAntiAffinity: 10 } });
    const spread = s.selectDestinations(hosts, makeSpec({ numInstances: 3, serverGroup: { id: 'g', policy: 'soft-anti-affinity', hostIds: [] } }));
    expect(new Set(spread.map((p) => p.hostId)).size).toBe(3);
    const together = s.selectDestinations(hosts, makeSpec({ numInstances: 3, serverGroup: { id: 'g', policy: 'soft-affinity', hostIds: [] } }));
    expect(new Set(together.map((p) => p.hostId)).size).toBe(1);
  });

  it('affinity keeps a group on the first pick and fails once that host is full', () => {
    const hosts = ['a', 'b'].map((hostId) => makeHost({ hostId, vcpusTotal: 2 }));
    const s = defaultScheduler({ rng: seededRng(3) });
    const group = { id: 'g', policy: 'affinity' as const, hostIds: [] };
    const picks = s.selectDestinations(hosts, makeSpec({ numInstances: 2, serverGroup: group }));
    expect(picks[0].hostId).toBe(picks[1].hostId);
    expect(() => s.selectDestinations(hosts, makeSpec({ numInstances: 3, serverGroup: group }))).toThrow(
      /instance 3 of 3: 2 hosts: 1 lacks vCPUs \(CoreFilter\), 1 does not hold the affinity group/,
    );
  });
});
