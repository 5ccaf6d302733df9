import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { allocateCpu, waterFill, type CpuHost, type CpuVm } from './cpu-scheduler';

// 4 logical CPUs = 4 cores x 2000 MHz = 8000 MHz.
const HOST: CpuHost = { logicalCpus: 4, capacityMhz: 8000, coreMhz: 2000 };
const vm = (id: string, vcpus: number, demandMhz: number, o: Partial<CpuVm> = {}): CpuVm => ({ id, vcpus, demandMhz, ...o });

describe('allocateCpu (vSphere reservations -> shares -> limits)', () => {
  it.each<[string, CpuHost, CpuVm[], number[]]>([
    ['no contention: everyone gets its demand', HOST, [vm('a', 1, 1000), vm('b', 2, 2000)], [1000, 2000]],
    ['equal shares split 8000 three ways', HOST, [vm('a', 2, 4000), vm('b', 2, 4000), vm('c', 2, 4000)], [8000 / 3, 8000 / 3, 8000 / 3]],
    ['shares 2:1 give 2/3 and 1/3', HOST, [vm('a', 4, 8000, { shares: 2000 }), vm('b', 4, 8000, { shares: 1000 })], [16000 / 3, 8000 / 3]],
    ['a limit caps the big-share VM; the rest flows to the other', HOST,
      [vm('a', 4, 8000, { shares: 2000, limitMhz: 4000 }), vm('b', 4, 8000, { shares: 1000 })], [4000, 4000]],
    ['a reservation is honoured before shares (lambda = 2000)', HOST,
      [vm('a', 4, 8000, { reservationMhz: 6000, shares: 1000 }), vm('b', 4, 8000, { shares: 1000 })], [6000, 2000]],
    ['an undemanded reservation is not held idle', HOST,
      [vm('a', 4, 1000, { reservationMhz: 6000 }), vm('b', 4, 8000)], [1000, 7000]],
    ['a vCPU never runs faster than one core (1000 x 1.6, 4000 x 1.6)', HOST, [vm('a', 1, 2500), vm('b', 4, 8000)], [1600, 6400]],
    ['reservations beyond capacity are scaled down proportionally', HOST,
      [vm('a', 4, 8000, { reservationMhz: 6000 }), vm('b', 4, 8000, { reservationMhz: 6000 })], [4000, 4000]],
    ['a CPU pool isolates its VMs', { ...HOST, pools: [{ name: 'gold', cpuIds: [0, 1] }] },
      [vm('a', 2, 4000, { pool: 'gold' }), vm('b', 2, 4000), vm('c', 2, 4000)], [4000, 2000, 2000]],
    ['pinning to one CPU caps a 2-vCPU VM at one core', HOST, [vm('a', 2, 4000, { pinnedCpuIds: [0] }), vm('b', 4, 8000)], [2000, 6000]],
  ])('%s', (_label, host, vms, expected) => {
    const res = allocateCpu(host, vms);
    res.vms.forEach((v, i) => expect(v.usageMhz).toBeCloseTo(expected[i], 6));
  });

  it('reports ready, limited and steal ratios and host utilisation', () => {
    const res = allocateCpu(HOST, [vm('a', 4, 8000, { shares: 2000, limitMhz: 4000 }), vm('b', 4, 8000, { shares: 1000 })]);
    expect(res.vms[0]).toMatchObject({ readyRatio: 0.5, limitedRatio: 0.5, stealRatio: 0.5 });
    expect(res.vms[1]).toMatchObject({ readyRatio: 0.5, limitedRatio: 0, stealRatio: 0.5 });
    expect(res.utilizationRatio).toBe(1);
    const idle = allocateCpu(HOST, [vm('a', 1, 0)]);
    expect(idle.vms[0]).toMatchObject({ usageMhz: 0, readyRatio: 0, stealRatio: 0 });
    expect(idle.utilizationRatio).toBe(0);
    const split = allocateCpu(HOST, [vm('a', 2, 4000), vm('b', 2, 4000), vm('c', 2, 4000)]);
    expect(split.vms[0].readyRatio).toBeCloseTo(1 / 3, 9);
    expect(split.vms[0].stealRatio).toBeCloseTo(1 / 3, 9);
  });

  it.each<[string, CpuHost, CpuVm[], RegExp]>([
    ['unknown pool', HOST, [vm('a', 1, 0, { pool: 'nope' })], /vms\[0\]\.pool/],
    ['pinning outside the pool', { ...HOST, pools: [{ name: 'p', cpuIds: [0] }] }, [vm('a', 1, 0, { pinnedCpuIds: [0] })], /vms\[0\]\.pinned_cpu_ids/],
    ['overlapping pools', { ...HOST, pools: [{ name: 'p', cpuIds: [0] }, { name: 'q', cpuIds: [0] }] }, [], /pools\[1\]\.cpu_ids/],
    ['limit below reservation', HOST, [vm('a', 1, 0, { reservationMhz: 10, limitMhz: 5 })], /vms\[0\]\.limit_mhz/],
    ['zero shares', HOST, [vm('a', 1, 0, { shares: 0 })], /vms\[0\]\.shares/],
    ['zero vcpus', HOST, [vm('a', 0, 0)], /vms\[0\]\.vcpus/],
  ])('rejects %s', (_l, host, vms, field) => {
    expect(() => allocateCpu(host, vms)).toThrow(InvalidArgumentError);
    expect(() => allocateCpu(host, vms)).toThrow(field);
  });

  const vmArb = fc.record({
    vcpus: fc.integer({ min: 1, max: 8 }),
    demandRatio: fc.double({ min: 0, max: 1, noNaN: true }),
    shares: fc.integer({ min: 1, max: 4000 }),
    reservationMhz: fc.integer({ min: 0, max: 4000 }),
    extraLimitMhz: fc.option(fc.integer({ min: 0, max: 8000 }), { nil: undefined }),
  });

  it('property: usage <= min(demand, limit), sum <= capacity, reservation honoured when sum(reservations) fits', () => {
    fc.assert(
      fc.property(fc.array(vmArb, { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (specs, cores) => {
        const host: CpuHost = { logicalCpus: cores, capacityMhz: cores * 2000, coreMhz: 2000 };
        const vms = specs.map((s, i) =>
          vm(`v${i}`, s.vcpus, s.demandRatio * s.vcpus * 2000, {
            shares: s.shares, reservationMhz: s.reservationMhz,
            limitMhz: s.extraLimitMhz === undefined ? undefined : s.reservationMhz + s.extraLimitMhz,
          }),
        );
        const res = allocateCpu(host, vms);
        const eps = 1e-6;
        let total = 0;
        const reservationsFit = vms.reduce((a, v) => a + Math.min(v.reservationMhz!, v.demandMhz, v.vcpus * 2000, host.capacityMhz), 0) <= host.capacityMhz;
        res.vms.forEach((a, i) => {
          const v = vms[i];
          total += a.usageMhz;
          expect(a.usageMhz).toBeGreaterThanOrEqual(-eps);
          expect(a.usageMhz).toBeLessThanOrEqual(Math.min(v.demandMhz, v.limitMhz ?? Infinity, v.vcpus * 2000) + eps);
          if (reservationsFit) expect(a.usageMhz).toBeGreaterThanOrEqual(Math.min(v.reservationMhz!, v.demandMhz, v.vcpus * 2000, host.capacityMhz) - eps);
        });
        expect(total).toBeLessThanOrEqual(host.capacityMhz + eps);
      }),
      { numRuns: 300 },
    );
  });

  it('property: the host is work-conserving (all capacity used when some VM still wants more)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ d: fc.integer({ min: 0, max: 8000 }), w: fc.integer({ min: 1, max: 100 }) }), { minLength: 1, maxLength: 20 }), (xs) => {
        const alloc = waterFill(10_000, xs.map((x) => ({ floor: 0, ceil: x.d, weight: x.w })));
        const total = alloc.reduce((a, b) => a + b, 0);
        const wanted = xs.reduce((a, x) => a + x.d, 0);
        expect(total).toBeCloseTo(Math.min(wanted, 10_000), 6);
      }),
    );
  });
});
