import { makeHost, makeSpec } from '../testing';
import { diskFilter } from './disk-filter';

describe('DiskFilter', () => {
  it.each([
    { name: 'fits', total: 100, used: 80, reserved: 0, ratio: 1, agg: undefined, req: 20, passed: true },
    { name: 'short', total: 100, used: 81, reserved: 0, ratio: 1, agg: undefined, req: 20, passed: false },
    { name: 'reserved', total: 100, used: 50, reserved: 40, ratio: 1, agg: undefined, req: 20, passed: false },
    { name: 'ratio 2', total: 100, used: 150, reserved: 0, ratio: 2, agg: undefined, req: 50, passed: true },
    { name: 'aggregate disk_allocation_ratio', total: 100, used: 150, reserved: 0, ratio: 2, agg: '1.5', req: 1, passed: false },
    { name: 'zero-disk flavor on a full host', total: 100, used: 100, reserved: 0, ratio: 1, agg: undefined, req: 0, passed: true },
  ])('$name', ({ total, used, reserved, ratio, agg, req, passed }) => {
    const host = makeHost({
      hostId: 'h1',
      diskGbTotal: total,
      diskGbUsed: used,
      diskGbReserved: reserved,
      diskAllocationRatio: ratio,
      aggregates: agg === undefined ? [] : [{ id: 'a', metadata: { disk_allocation_ratio: agg } }],
    });
    const result = diskFilter.hostPasses(host, makeSpec({ flavor: { vcpus: 0, ramMb: 0, diskGb: req, extraSpecs: {} } }));
    expect(result.passed).toBe(passed);
  });
});
