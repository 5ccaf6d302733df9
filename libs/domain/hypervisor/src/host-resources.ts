import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { HostProfile, logicalCpus } from './host-profile';
import { VmFlavor, VmRecord } from './vm-state-machine';

/**
 * The hard ceilings the agent itself enforces, as multiples of the physical capacity. They sit above
 * the scheduler's allocation ratios (which the controller applies): they only stop a spawn the host
 * physically cannot hold. Defaults: RAM 1.5 (Nova's initial_ram_allocation_ratio; beyond it ballooning
 * and swap cannot keep up), vCPU 16 (Nova's historical cpu_allocation_ratio), disk 1.0.
 */
export interface HostLimits {
  readonly maxRamRatio: number;
  readonly maxVcpuRatio: number;
  readonly maxDiskRatio: number;
}

export const DEFAULT_HOST_LIMITS: HostLimits = Object.freeze({ maxRamRatio: 1.5, maxVcpuRatio: 16, maxDiskRatio: 1 });

/** What the VMs on a host are allocated (sum of flavors of every VM still on it, whatever its power state). */
export interface HostAllocation {
  readonly vmCount: number;
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
}

/** Allocated vs physical, for reports (`*_ratio` = allocated / physical; > 1 means overcommitted). */
export interface HostResourceReport {
  readonly allocated: HostAllocation;
  readonly physical: { readonly logicalCpus: number; readonly ramMb: number; readonly diskGb: number };
  readonly vcpuRatio: number;
  readonly ramRatio: number;
  readonly diskRatio: number;
}

/** Sums the flavors of the VMs still on this host (destroyed and migrated-out records are skipped). */
export function allocationOf(vms: readonly VmRecord[]): HostAllocation {
  const present = vms.filter((vm) => !vm.gone);
  return present.reduce<HostAllocation>(
    (a, vm) => ({ vmCount: a.vmCount + 1, vcpus: a.vcpus + vm.flavor.vcpus, ramMb: a.ramMb + vm.flavor.ramMb, diskGb: a.diskGb + vm.flavor.diskGb }),
    { vmCount: 0, vcpus: 0, ramMb: 0, diskGb: 0 },
  );
}

/** Allocation vs the profile's physical capacity. */
export function resourceReport(profile: HostProfile, vms: readonly VmRecord[]): HostResourceReport {
  const allocated = allocationOf(vms);
  const cpus = logicalCpus(profile);
  return {
    allocated,
    physical: { logicalCpus: cpus, ramMb: profile.ramMb, diskGb: profile.diskGb },
    vcpuRatio: allocated.vcpus / cpus,
    ramRatio: allocated.ramMb / profile.ramMb,
    diskRatio: allocated.diskGb / profile.diskGb,
  };
}

/**
 * Refuses a VM of `flavor` that would take the host past a limit (checked in order RAM, vCPU, disk).
 * @throws ResourceExhaustedError with reason "host_ram_exhausted" | "host_vcpu_exhausted" |
 *   "host_disk_exhausted" and a message giving requested, allocated and the ceiling;
 *   InvalidArgumentError (`host_limits.<field>`) for a limit that is not > 0.
 */
export function assertCanHost(profile: HostProfile, vms: readonly VmRecord[], flavor: VmFlavor, limits: HostLimits = DEFAULT_HOST_LIMITS): void {
  const a = allocationOf(vms);
  const checks: [string, string, number, number, number, number][] = [
    ['ram', 'ram_mb', flavor.ramMb, a.ramMb, profile.ramMb, limits.maxRamRatio],
    ['vcpu', 'vcpus', flavor.vcpus, a.vcpus, logicalCpus(profile), limits.maxVcpuRatio],
    ['disk', 'disk_gb', flavor.diskGb, a.diskGb, profile.diskGb, limits.maxDiskRatio],
  ];
  for (const [what, unit, requested, allocated, physical, ratio] of checks) {
    if (!(ratio > 0)) throw new InvalidArgumentError(`host_limits.max_${what}_ratio`, `must be > 0, got ${ratio}`);
    const ceiling = physical * ratio;
    if (allocated + requested > ceiling) {
      throw new ResourceExhaustedError(
        `host ${profile.hostId} cannot hold ${requested} ${unit}: ${allocated} allocated, ceiling ${ceiling} (${physical} x ${ratio})`,
        `host_${what}_exhausted`,
      );
    }
  }
}
