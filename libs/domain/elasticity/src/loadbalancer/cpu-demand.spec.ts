import { memberCpuDemandPercent, memberQueueServer } from './cpu-demand';

describe('memberCpuDemandPercent', () => {
  it.each([
    [100, 10, 1, 0, 100],
    [50, 10, 1, 0, 50],
    [50, 10, 2, 0, 25],
    [50, 10, 2, 5, 30],
    [500, 10, 1, 0, 100],
    [0, 10, 4, 3, 3],
  ])('%d rps x %d ms on %d vCPUs (+%d %%) = %d %%', (rps, ms, vcpus, base, expected) => {
    expect(memberCpuDemandPercent(rps, ms, vcpus, base)).toBeCloseTo(expected, 9);
  });
  it('refuses a zero request cost and a fractional vCPU count', () => {
    expect(() => memberCpuDemandPercent(1, 0, 1)).toThrow('cpu_ms_per_request');
    expect(() => memberCpuDemandPercent(1, 1, 1.5)).toThrow('vcpus');
  });
});

describe('memberQueueServer', () => {
  it('stretches the service time by the CPU the hypervisor withholds', () => {
    expect(memberQueueServer(2, 20).serviceTimeSeconds).toBeCloseTo(0.02, 12);
    expect(memberQueueServer(2, 20, 0.5).serviceTimeSeconds).toBeCloseTo(0.04, 12);
    expect(() => memberQueueServer(2, 20, 0)).toThrow('granted_ratio');
  });
});
