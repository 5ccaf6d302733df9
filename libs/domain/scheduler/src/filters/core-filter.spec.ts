import { makeHost, makeSpec } from '../testing';
import { coreFilter } from './core-filter';

describe('CoreFilter', () => {
  it.each([
    { name: 'fits', total: 8, used: 6, reserved: 0, ratio: 1, aggs: [], req: 2, passed: true },
    { name: 'full', total: 8, used: 7, reserved: 0, ratio: 1, aggs: [], req: 2, passed: false },
    { name: 'ratio 16 (Nova 16.0 default)', total: 8, used: 100, reserved: 0, ratio: 16, aggs: [], req: 28, passed: true },
    { name: 'reserved host cpus', total: 8, used: 6, reserved: 2, ratio: 1, aggs: [], req: 1, passed: false },
    { name: 'minimum across aggregates wins', total: 8, used: 8, reserved: 0, ratio: 16, aggs: ['4', '1'], req: 1, passed: false },
    { name: 'one aggregate with ratio', total: 8, used: 8, reserved: 0, ratio: 16, aggs: ['4'], req: 24, passed: true },
  ])('$name', ({ total, used, reserved, ratio, aggs, req, passed }) => {
    const host = makeHost({
      hostId: 'h1',
      vcpusTotal: total,
      vcpusUsed: used,
      vcpusReserved: reserved,
      cpuAllocationRatio: ratio,
      aggregates: aggs.map((v, i) => ({ id: `a${i}`, metadata: { cpu_allocation_ratio: v } })),
    });
    const result = coreFilter.hostPasses(host, makeSpec({ flavor: { vcpus: req, ramMb: 0, diskGb: 0, extraSpecs: {} } }));
    expect(result.passed).toBe(passed);
    if (!result.passed) expect(result.reason).toContain('vCPUs');
  });
});
