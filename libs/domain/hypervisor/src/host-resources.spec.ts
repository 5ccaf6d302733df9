import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { profileByName } from './host-profile';
import { allocationOf, assertCanHost, DEFAULT_HOST_LIMITS, resourceReport } from './host-resources';
import { apply, defineVm, VmFlavor } from './vm-state-machine';

const g4 = profileByName('hp-proliant-ml110-g4', 'h1'); // 2 CPUs, 4096 MB, 1000 GB
const vm = (id: string, f: VmFlavor) => defineVm(id, f);

describe('host resources', () => {
  const vms = [
    vm('a', { vcpus: 1, ramMb: 1740, diskGb: 10 }),
    vm('b', { vcpus: 1, ramMb: 870, diskGb: 5 }),
    apply(vm('gone', { vcpus: 8, ramMb: 9999, diskGb: 99 }), { type: 'destroy' }),
  ];

  it('sums the flavors of the VMs still on the host', () => {
    expect(allocationOf(vms)).toEqual({ vmCount: 2, vcpus: 2, ramMb: 2610, diskGb: 15 });
  });

  it('reports allocated vs physical ratios', () => {
    const r = resourceReport(g4, vms);
    expect(r.physical).toEqual({ logicalCpus: 2, ramMb: 4096, diskGb: 1000 });
    expect(r.vcpuRatio).toBe(1);
    expect(r.ramRatio).toBeCloseTo(2610 / 4096, 12);
    expect(r.diskRatio).toBeCloseTo(0.015, 12);
  });

  // RAM ceiling on the G4 = 4096 * 1.5 = 6144 MB; 2610 allocated leaves 3534.
  it.each([
    [{ vcpus: 1, ramMb: 3534, diskGb: 1 }, null],
    [{ vcpus: 1, ramMb: 3535, diskGb: 1 }, 'host_ram_exhausted'],
    [{ vcpus: 30, ramMb: 100, diskGb: 1 }, null], // 2 + 30 = 32 = 2 x 16: fits exactly
    [{ vcpus: 31, ramMb: 100, diskGb: 1 }, 'host_vcpu_exhausted'],
    [{ vcpus: 1, ramMb: 100, diskGb: 986 }, 'host_disk_exhausted'],
  ])('flavor %j -> %s', (flavor, reason) => {
    const run = () => assertCanHost(g4, vms, flavor);
    if (reason === null) return expect(run).not.toThrow();
    try {
      run();
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ResourceExhaustedError);
      expect((e as ResourceExhaustedError).reason).toBe(reason);
      expect((e as Error).message).toMatch(/^host h1 cannot hold/);
    }
  });

  it('gives RAM back when a VM leaves', () => {
    const big = { vcpus: 1, ramMb: 6000, diskGb: 1 };
    const full = [vm('x', big)];
    expect(() => assertCanHost(g4, full, { vcpus: 1, ramMb: 200, diskGb: 1 })).toThrow(ResourceExhaustedError);
    const left = [apply({ ...vm('x', big), state: 'running' }, { type: 'migrate_out' })];
    expect(() => assertCanHost(g4, left, { vcpus: 1, ramMb: 200, diskGb: 1 })).not.toThrow();
  });

  it('uses the limits it is given', () => {
    expect(() => assertCanHost(g4, [], { vcpus: 1, ramMb: 4097, diskGb: 1 }, { ...DEFAULT_HOST_LIMITS, maxRamRatio: 1 })).toThrow(/4096 x 1/);
    expect(() => assertCanHost(g4, [], { vcpus: 1, ramMb: 1, diskGb: 1 }, { ...DEFAULT_HOST_LIMITS, maxRamRatio: 0 })).toThrow(/host_limits.max_ram_ratio/);
  });
});
