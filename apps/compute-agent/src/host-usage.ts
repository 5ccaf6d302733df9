/** One VM's CPU demand: its vCPUs and the fraction of them it wants busy (0..1). */
export interface VmCpuDemand {
  readonly vcpus: number;
  readonly utilizationRatio: number;
}

/** Host-level CPU load: demand vs capacity in MHz, the utilisation the power model sees, and CPU ready. */
export interface HostCpuLoad {
  readonly demandMhz: number;
  readonly capacityMhz: number;
  /** min(1, demand / capacity): what the SPECpower model is evaluated at. */
  readonly utilizationRatio: number;
  /** Share of demand that waits for a core when overcommitted: max(0, 1 - capacity / demand). */
  readonly readyRatio: number;
}

/**
 * CPU load of a host as CloudSim counts it: a vCPU at 100 % demands one core's `cpuMhz`; capacity is
 * physical cores x cpuMhz (SMT threads add no MHz, see domain-hypervisor `totalCpuMhz`).
 * Pure; lives here because domain-hypervisor has no host-level CPU aggregate yet.
 */
export function hostCpuLoad(cpuMhz: number, capacityMhz: number, vms: readonly VmCpuDemand[]): HostCpuLoad {
  const demandMhz = vms.reduce((s, vm) => s + vm.vcpus * vm.utilizationRatio * cpuMhz, 0);
  const utilizationRatio = capacityMhz > 0 ? Math.min(1, demandMhz / capacityMhz) : 0;
  const readyRatio = demandMhz > capacityMhz ? 1 - capacityMhz / demandMhz : 0;
  return { demandMhz, capacityMhz, utilizationRatio, readyRatio };
}
