import { minAggregateNumber } from './aggregate-metadata';
import { HostState } from './host-state';

/** The three resource classes the scheduler accounts (Placement's VCPU, MEMORY_MB, DISK_GB). */
export type ResourceKind = 'vcpu' | 'ram' | 'disk';

const RATIO_KEY: Record<ResourceKind, string> = {
  vcpu: 'cpu_allocation_ratio',
  ram: 'ram_allocation_ratio',
  disk: 'disk_allocation_ratio',
};

/**
 * The allocation ratio in force on `host` for `kind`: the minimum of the aggregates' metadata
 * (`cpu_allocation_ratio`, `ram_allocation_ratio`, `disk_allocation_ratio`), as Nova's
 * AggregateCoreFilter/AggregateRamFilter/AggregateDiskFilter did, else the host's own ratio.
 * Non-positive aggregate values are ignored.
 */
export function effectiveAllocationRatio(host: HostState, kind: ResourceKind): number {
  const own = kind === 'vcpu' ? host.cpuAllocationRatio : kind === 'ram' ? host.ramAllocationRatio : host.diskAllocationRatio;
  const fromAggregates = minAggregateNumber(host, RATIO_KEY[kind], own);
  return fromAggregates > 0 ? fromAggregates : own;
}

/** The allocation ratios in force on `host` per class ({@link effectiveAllocationRatio}): what a claim on it must check against. */
export function effectiveAllocationRatios(host: HostState): { cpu: number; ram: number; disk: number } {
  return { cpu: effectiveAllocationRatio(host, 'vcpu'), ram: effectiveAllocationRatio(host, 'ram'), disk: effectiveAllocationRatio(host, 'disk') };
}

/** Total, reserved and used amounts of one resource (vCPUs, MB of RAM or GB of disk). */
export function rawAmounts(host: HostState, kind: ResourceKind): { total: number; reserved: number; used: number } {
  switch (kind) {
    case 'vcpu':
      return { total: host.vcpusTotal, reserved: host.vcpusReserved ?? 0, used: host.vcpusUsed };
    case 'ram':
      return { total: host.ramMbTotal, reserved: host.ramMbReserved, used: host.ramMbUsed };
    case 'disk':
      return { total: host.diskGbTotal, reserved: host.diskGbReserved ?? 0, used: host.diskGbUsed };
  }
}

/**
 * Usable capacity of one resource, in its unit: (total - reserved) * allocation_ratio, the formula
 * of OpenStack Placement's capacity check. Never negative.
 */
export function usableCapacity(host: HostState, kind: ResourceKind): number {
  const { total, reserved } = rawAmounts(host, kind);
  return Math.max(0, (total - reserved) * effectiveAllocationRatio(host, kind));
}

/** usableCapacity - used; negative when the host is already overcommitted beyond its ratio. */
export function freeCapacity(host: HostState, kind: ResourceKind): number {
  return usableCapacity(host, kind) - rawAmounts(host, kind).used;
}
