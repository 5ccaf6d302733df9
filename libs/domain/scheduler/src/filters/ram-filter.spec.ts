import { makeHost, makeSpec } from '../testing';
import { ramFilter } from './ram-filter';

const flavor = (ramMb: number) => ({ vcpus: 1, ramMb, diskGb: 0, extraSpecs: {} });

describe('RamFilter', () => {
  it.each([
    // usable = (total - reserved) * ratio; free = usable - used
    { name: 'fits exactly', total: 4096, used: 3072, reserved: 0, ratio: 1, agg: undefined, req: 1024, passed: true },
    { name: 'one MB short', total: 4096, used: 3073, reserved: 0, ratio: 1, agg: undefined, req: 1024, passed: false },
    { name: 'reserved is not usable', total: 4096, used: 2048, reserved: 1536, ratio: 1, agg: undefined, req: 1024, passed: false },
    { name: 'ratio 1.5 overcommits', total: 4096, used: 4096, reserved: 0, ratio: 1.5, agg: undefined, req: 2048, passed: true },
    { name: 'reserved taken before ratio', total: 4096, used: 4096, reserved: 1024, ratio: 2, agg: undefined, req: 2048, passed: true },
    { name: 'reserved taken before ratio, short', total: 4096, used: 4096, reserved: 1024, ratio: 2, agg: undefined, req: 2049, passed: false },
    { name: 'aggregate ratio lowers host ratio', total: 4096, used: 4096, reserved: 0, ratio: 1.5, agg: '1.0', req: 1, passed: false },
    { name: 'aggregate ratio raises host ratio', total: 4096, used: 4096, reserved: 0, ratio: 1, agg: '2', req: 4096, passed: true },
    { name: 'unparsable aggregate ratio ignored', total: 4096, used: 0, reserved: 0, ratio: 1, agg: 'lots', req: 4096, passed: true },
  ])('$name', ({ total, used, reserved, ratio, agg, req, passed }) => {
    const host = makeHost({
      hostId: 'h1',
      ramMbTotal: total,
      ramMbUsed: used,
      ramMbReserved: reserved,
      ramAllocationRatio: ratio,
      aggregates: agg === undefined ? [] : [{ id: 'a1', metadata: { ram_allocation_ratio: agg } }],
    });
    const result = ramFilter.hostPasses(host, makeSpec({ flavor: flavor(req) }));
    expect(result.passed).toBe(passed);
    if (!result.passed) expect(result.reason).toMatch(/free RAM .* MB < requested \d+ MB/);
  });
});
