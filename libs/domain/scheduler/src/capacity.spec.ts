import { effectiveAllocationRatio, effectiveAllocationRatios, freeCapacity, usableCapacity } from './capacity';
import { makeHost } from './testing';

describe('capacity (Placement: (total - reserved) * allocation_ratio)', () => {
  it.each([
    { kind: 'ram' as const, host: { ramMbTotal: 1000, ramMbReserved: 200, ramAllocationRatio: 1.5, ramMbUsed: 100 }, usable: 1200, free: 1100 },
    { kind: 'vcpu' as const, host: { vcpusTotal: 8, vcpusReserved: 2, cpuAllocationRatio: 4, vcpusUsed: 30 }, usable: 24, free: -6 },
    { kind: 'disk' as const, host: { diskGbTotal: 100, diskGbReserved: 0, diskAllocationRatio: 1, diskGbUsed: 20 }, usable: 100, free: 80 },
    { kind: 'ram' as const, host: { ramMbTotal: 100, ramMbReserved: 200, ramAllocationRatio: 1, ramMbUsed: 0 }, usable: 0, free: 0 },
  ])('$kind usable $usable free $free', ({ kind, host, usable, free }) => {
    const h = makeHost({ hostId: 'h', ...host });
    expect(usableCapacity(h, kind)).toBe(usable);
    expect(freeCapacity(h, kind)).toBe(free);
  });

  it.each([
    { metas: [], expected: 16 },
    { metas: [{ cpu_allocation_ratio: '2.0' }, { cpu_allocation_ratio: '4' }], expected: 2 },
    { metas: [{ cpu_allocation_ratio: '0' }], expected: 16 },
    { metas: [{ cpu_allocation_ratio: '-1' }], expected: 16 },
    { metas: [{ cpu_allocation_ratio: 'abc' }, { cpu_allocation_ratio: '8' }], expected: 8 },
    { metas: [{ ram_allocation_ratio: '1' }], expected: 16 },
  ])('effective cpu ratio with aggregates $metas = $expected', ({ metas, expected }) => {
    const h = makeHost({ hostId: 'h', cpuAllocationRatio: 16, aggregates: metas.map((metadata, i) => ({ id: `${i}`, metadata })) });
    expect(effectiveAllocationRatio(h, 'vcpu')).toBe(expected);
  });

  it('gives the ratios a claim checks: aggregate overrides per class, else the host own', () => {
    const h = makeHost({ hostId: 'h', cpuAllocationRatio: 16, ramAllocationRatio: 1.5, diskAllocationRatio: 1, aggregates: [{ id: 'a', metadata: { ram_allocation_ratio: '1.0', disk_allocation_ratio: '2' } }] });
    expect(effectiveAllocationRatios(h)).toEqual({ cpu: 16, ram: 1, disk: 2 });
  });
});
