import { makeHost, makeSpec } from '../testing';
import { createCpuWeigher } from './cpu-weigher';

describe('CPUWeigher', () => {
  it.each([
    { name: 'ratio 1', total: 8, used: 2, ratio: 1, aggs: [], raw: 6 },
    { name: 'ratio 4', total: 8, used: 2, ratio: 4, aggs: [], raw: 30 },
    { name: 'aggregate ratio', total: 8, used: 2, ratio: 4, aggs: [{ id: 'a', metadata: { cpu_allocation_ratio: '2' } }], raw: 14 },
    { name: 'overcommitted', total: 8, used: 10, ratio: 1, aggs: [], raw: -2 },
  ])('$name -> $raw free vCPUs', ({ total, used, ratio, aggs, raw }) => {
    const host = makeHost({ hostId: 'h', vcpusTotal: total, vcpusUsed: used, cpuAllocationRatio: ratio, aggregates: aggs });
    expect(createCpuWeigher().rawWeight(host, makeSpec())).toBe(raw);
  });

  it('has Nova defaults', () => {
    expect(createCpuWeigher()).toMatchObject({ multiplierKey: 'cpu_weight_multiplier', configuredMultiplier: 1 });
    expect(createCpuWeigher({ multiplier: -3 }).configuredMultiplier).toBe(-3);
  });
});
