/**
 * A host aggregate as the scheduler sees it: an id and free-form metadata. Metadata keys the
 * scheduler reads: `cpu_allocation_ratio`, `ram_allocation_ratio`, `disk_allocation_ratio`,
 * `<name>_weight_multiplier` and the keys matched by `aggregate_instance_extra_specs:*` flavor specs.
 */
export interface HostAggregate {
  readonly id: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The scheduler's in-memory view of one compute host (Nova's `HostState`). Everything a filter or
 * weigher needs is data here: filters do no I/O.
 *
 * Capacity model (OpenStack Placement): usable = (total - reserved) * allocation_ratio, and `*Used`
 * counts only what instances consume (reserved is NOT included in `*Used`). Ratios may be overridden
 * per aggregate (see `effectiveAllocationRatio`).
 */
export interface HostState {
  readonly hostId: string;
  readonly availabilityZone: string;
  /** Compute service enabled by an operator (Nova's service `disabled` flag, inverted). */
  readonly enabled: boolean;
  /** Heartbeats are fresh (Nova's servicegroup `is_up`). */
  readonly up: boolean;
  readonly aggregates: readonly HostAggregate[];
  readonly vcpusTotal: number;
  readonly vcpusUsed: number;
  /** Physical CPUs kept for the host itself (Nova's `reserved_host_cpus`); default 0. */
  readonly vcpusReserved?: number;
  readonly ramMbTotal: number;
  readonly ramMbUsed: number;
  /** Memory kept for the host itself (Nova's `reserved_host_memory_mb`). */
  readonly ramMbReserved: number;
  readonly diskGbTotal: number;
  readonly diskGbUsed: number;
  /** Disk kept for the host itself (Nova's `reserved_host_disk_mb` / 1024); default 0. */
  readonly diskGbReserved?: number;
  readonly cpuAllocationRatio: number;
  readonly ramAllocationRatio: number;
  readonly diskAllocationRatio: number;
  readonly numInstances: number;
  /** Instances in an I/O-heavy task (building, resizing, migrating, snapshotting...). */
  readonly numIoOps: number;
  readonly instanceIds: ReadonlySet<string>;
  /** Server group id -> number of that group's instances on this host. */
  readonly serverGroupMembers?: Readonly<Record<string, number>>;
  /** e.g. "qemu", "kvm" (compared case-insensitively). */
  readonly hypervisorType: string;
  /** e.g. "x86_64", "aarch64" (canonicalised before comparison). */
  readonly architecture: string;
  readonly cpuModel: string;
  /** CPU feature flags as /proc/cpuinfo lists them (the CpuModelFilter's input); absent: none known. */
  readonly cpuFlags?: readonly string[];
  /** ESXi memory state the host last reported (high, soft, hard, low); absent: not reported. */
  readonly memoryState?: string;
  /** Consecutive recent build failures on this host (Nova's BuildFailureWeigher input). */
  readonly failedBuilds: number;
}

/** A copy of `host` whose mutable parts (instance set, group counts) are not shared. */
export function cloneHostState(host: HostState): HostState {
  return {
    ...host,
    instanceIds: new Set(host.instanceIds),
    serverGroupMembers: host.serverGroupMembers ? { ...host.serverGroupMembers } : undefined,
  };
}
