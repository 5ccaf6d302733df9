import { InvalidArgumentError } from '@minicloud/domain-errors';

/** One claimant of a water-filling allocation. All amounts in the same unit (MHz for the CPU). */
export interface WaterFillItem {
  /** Guaranteed amount (a reservation), honoured first; must be <= ceil. */
  readonly floor: number;
  /** Most the item can use (min of demand and limit). */
  readonly ceil: number;
  /** Proportional-share weight (> 0). */
  readonly weight: number;
}

/**
 * Max-min fair division with floors, ceilings and weights (vSphere's entitlement rule: reservations
 * first, then the rest in proportion to shares, never above the limit/demand): finds the water level
 * lambda such that sum(clamp(lambda * weight_i, floor_i, ceil_i)) = capacity, by sweeping the sorted
 * breakpoints floor_i/weight_i and ceil_i/weight_i (exact, O(n log n)).
 * - sum(ceil) <= capacity: everyone gets its ceil (no contention).
 * - sum(floor) > capacity (the reservations cannot be honoured; admission control should have refused):
 *   floors are scaled down proportionally.
 * @returns one allocation per item, in input order
 * @throws InvalidArgumentError (`capacity`, `items[i].weight|floor|ceil`) for a negative capacity, a
 *   weight <= 0, a negative floor, or floor > ceil.
 */
export function waterFill(capacity: number, items: readonly WaterFillItem[]): number[] {
  if (!(capacity >= 0) || !Number.isFinite(capacity)) throw new InvalidArgumentError('capacity', `must be >= 0, got ${capacity}`);
  let sumFloor = 0;
  let sumCeil = 0;
  items.forEach((it, i) => {
    if (!(it.weight > 0)) throw new InvalidArgumentError(`items[${i}].weight`, `must be > 0, got ${it.weight}`);
    if (!(it.floor >= 0)) throw new InvalidArgumentError(`items[${i}].floor`, `must be >= 0, got ${it.floor}`);
    if (!(it.ceil >= it.floor)) throw new InvalidArgumentError(`items[${i}].ceil`, `must be >= floor ${it.floor}, got ${it.ceil}`);
    sumFloor += it.floor;
    sumCeil += it.ceil;
  });
  if (sumCeil <= capacity) return items.map((it) => it.ceil);
  if (sumFloor >= capacity) return items.map((it) => (sumFloor > 0 ? (it.floor * capacity) / sumFloor : 0));
  // f(lambda) = fixed + lambda * activeWeight between breakpoints; items start at their floor.
  const events: { at: number; enter: boolean; i: number }[] = [];
  items.forEach((it, i) => {
    events.push({ at: it.floor / it.weight, enter: true, i }, { at: it.ceil / it.weight, enter: false, i });
  });
  events.sort((a, b) => a.at - b.at || Number(b.enter) - Number(a.enter));
  let fixed = sumFloor;
  let activeWeight = 0;
  let lambda = events.length ? events[events.length - 1].at : 0;
  for (const ev of events) {
    if (activeWeight > 0 && fixed + ev.at * activeWeight >= capacity) {
      lambda = (capacity - fixed) / activeWeight;
      break;
    }
    const it = items[ev.i];
    if (ev.enter) {
      fixed -= it.floor;
      activeWeight += it.weight;
    } else {
      fixed += it.ceil;
      activeWeight -= it.weight;
    }
  }
  return items.map((it) => Math.min(it.ceil, Math.max(it.floor, lambda * it.weight)));
}

/** vSphere's "normal" CPU shares per vCPU (low 500, normal 1000, high 2000). */
export const NORMAL_SHARES_PER_VCPU = 1000;

/** A named, disjoint set of logical CPUs (a CPU pool / cpuset partition, as Xen cpupools or ESXi resource pools pinned to CPUs). */
export interface CpuPool {
  readonly name: string;
  readonly cpuIds: readonly number[];
}

/** The pool that holds every logical CPU not claimed by a named pool. */
export const DEFAULT_CPU_POOL = 'default';

/** The host side of a CPU allocation. */
export interface CpuHost {
  /** Logical CPUs, ids 0..logicalCpus-1. */
  readonly logicalCpus: number;
  /** Capacity of the whole host, MHz (physical cores x core MHz: SMT adds no MHz). */
  readonly capacityMhz: number;
  /** MHz of one core: the most one vCPU can run at. */
  readonly coreMhz: number;
  readonly pools?: readonly CpuPool[];
}

/** One VM's CPU settings and demand for this interval. */
export interface CpuVm {
  readonly id: string;
  readonly vcpus: number;
  /** What the guest wants to run, MHz (workload ratio x vcpus x coreMhz). */
  readonly demandMhz: number;
  /** Default vcpus x NORMAL_SHARES_PER_VCPU. */
  readonly shares?: number;
  /** Guaranteed MHz when demanded; default 0. */
  readonly reservationMhz?: number;
  /** Ceiling MHz; default unlimited. */
  readonly limitMhz?: number;
  /** CPU pool name; default DEFAULT_CPU_POOL. */
  readonly pool?: string;
  /** Logical CPUs the vCPUs are pinned to (must lie in the VM's pool); caps the VM at min(vcpus, pinned) cores. */
  readonly pinnedCpuIds?: readonly number[];
}

/** Per-VM outcome. Ratios are in [0, 1]. */
export interface CpuVmAllocation {
  readonly id: string;
  readonly demandMhz: number;
  /** MHz the VM actually ran (its allocation). */
  readonly usageMhz: number;
  /** (demand - usage) / demand: share of the demand that waited for a pCPU (vSphere %RDY incl. %MLMTD). */
  readonly readyRatio: number;
  /** Part of readyRatio caused by the VM's own limit (vSphere %MLMTD), not by contention. */
  readonly limitedRatio: number;
  /** (demand - usage) / (vcpus x coreMhz): vCPU time the guest sees stolen (/proc/stat steal). */
  readonly stealRatio: number;
}

/** Per-pool and host outcome. */
export interface CpuAllocation {
  readonly vms: readonly CpuVmAllocation[];
  readonly pools: readonly { readonly name: string; readonly capacityMhz: number; readonly usageMhz: number; readonly demandMhz: number }[];
  readonly capacityMhz: number;
  readonly demandMhz: number;
  readonly usageMhz: number;
  /** usage / capacity, in [0, 1]: what the power model is evaluated at. */
  readonly utilizationRatio: number;
}

/**
 * Divides the host's CPU among its VMs for one interval with vSphere semantics (Resource Management
 * Guide, "CPU virtualization"; Gulati et al., "VMware Distributed Resource Management", VMware Tech
 * Journal 2012): per pool, each VM's entitlement = clamp(lambda x shares, reservation, min(demand,
 * limit, vcpus x coreMhz, pinned cap)) with lambda set so the pool's capacity is used (waterFill).
 * A pool's capacity = its logical CPUs x capacityMhz / logicalCpus. Pinning caps the VM at
 * min(vcpus, pinned CPUs) x coreMhz; pinned VMs still compete with the whole pool (an approximation:
 * contention on the pinned subset alone is not modelled).
 * @throws InvalidArgumentError naming the field: pools overlapping or naming CPUs outside the host
 *   (`pools[i].cpu_ids`), a VM in an unknown pool (`vms[i].pool`), pinned outside its pool
 *   (`vms[i].pinned_cpu_ids`), vcpus < 1, negative demand/reservation, limit < reservation, shares <= 0.
 */
export function allocateCpu(host: CpuHost, vms: readonly CpuVm[]): CpuAllocation {
  const poolCpus = poolsOf(host);
  const mhzPerLogical = host.capacityMhz / host.logicalCpus;
  const byPool = new Map<string, number[]>();
  const items: WaterFillItem[] = vms.map((vm, i) => {
    const f = `vms[${i}]`;
    if (!Number.isInteger(vm.vcpus) || vm.vcpus < 1) throw new InvalidArgumentError(`${f}.vcpus`, `must be an integer >= 1, got ${vm.vcpus}`);
    if (!(vm.demandMhz >= 0)) throw new InvalidArgumentError(`${f}.demand_mhz`, `must be >= 0, got ${vm.demandMhz}`);
    const reservation = vm.reservationMhz ?? 0;
    const limit = vm.limitMhz ?? Infinity;
    const shares = vm.shares ?? vm.vcpus * NORMAL_SHARES_PER_VCPU;
    if (!(reservation >= 0)) throw new InvalidArgumentError(`${f}.reservation_mhz`, `must be >= 0, got ${reservation}`);
    if (!(limit >= reservation)) throw new InvalidArgumentError(`${f}.limit_mhz`, `must be >= reservation ${reservation}, got ${limit}`);
    if (!(shares > 0)) throw new InvalidArgumentError(`${f}.shares`, `must be > 0, got ${shares}`);
    const pool = vm.pool ?? DEFAULT_CPU_POOL;
    const cpus = poolCpus.get(pool);
    if (!cpus) throw new InvalidArgumentError(`${f}.pool`, `unknown CPU pool "${pool}"`);
    let cap = vm.vcpus * host.coreMhz;
    if (vm.pinnedCpuIds) {
      if (vm.pinnedCpuIds.length === 0 || vm.pinnedCpuIds.some((c) => !cpus.has(c))) {
        throw new InvalidArgumentError(`${f}.pinned_cpu_ids`, `must be non-empty and inside pool "${pool}"`);
      }
      cap = Math.min(vm.vcpus, new Set(vm.pinnedCpuIds).size) * host.coreMhz;
    }
    cap = Math.min(cap, cpus.size * mhzPerLogical);
    const ceil = Math.min(vm.demandMhz, limit, cap);
    (byPool.get(pool) ?? byPool.set(pool, []).get(pool)!).push(i);
    return { floor: Math.min(reservation, ceil), ceil, weight: shares };
  });
  const usage = new Array<number>(vms.length).fill(0);
  const pools = [...poolCpus].map(([name, cpus]) => {
    const idx = byPool.get(name) ?? [];
    const capacityMhz = cpus.size * mhzPerLogical;
    const alloc = waterFill(capacityMhz, idx.map((i) => items[i]));
    idx.forEach((i, k) => (usage[i] = alloc[k]));
    return { name, capacityMhz, usageMhz: sum(alloc), demandMhz: sum(idx.map((i) => vms[i].demandMhz)) };
  });
  const out = vms.map((vm, i) => {
    const d = vm.demandMhz;
    const u = usage[i];
    const limited = Math.max(0, d - Math.min(d, vm.limitMhz ?? Infinity));
    return {
      id: vm.id, demandMhz: d, usageMhz: u,
      readyRatio: d > 0 ? Math.max(0, (d - u) / d) : 0,
      limitedRatio: d > 0 ? limited / d : 0,
      stealRatio: Math.max(0, (d - u) / (vm.vcpus * host.coreMhz)),
    };
  });
  const usageMhz = sum(usage);
  return {
    vms: out, pools, capacityMhz: host.capacityMhz, demandMhz: sum(vms.map((v) => v.demandMhz)), usageMhz,
    utilizationRatio: host.capacityMhz > 0 ? Math.min(1, usageMhz / host.capacityMhz) : 0,
  };
}

function poolsOf(host: CpuHost): Map<string, Set<number>> {
  if (!Number.isInteger(host.logicalCpus) || host.logicalCpus < 1) throw new InvalidArgumentError('host.logical_cpus', `must be >= 1, got ${host.logicalCpus}`);
  const taken = new Set<number>();
  const out = new Map<string, Set<number>>();
  (host.pools ?? []).forEach((p, i) => {
    if (p.name === DEFAULT_CPU_POOL || out.has(p.name)) throw new InvalidArgumentError(`pools[${i}].name`, `duplicate or reserved name "${p.name}"`);
    for (const c of p.cpuIds) {
      if (!Number.isInteger(c) || c < 0 || c >= host.logicalCpus || taken.has(c)) {
        throw new InvalidArgumentError(`pools[${i}].cpu_ids`, `CPU ${c} is outside 0..${host.logicalCpus - 1} or already in another pool`);
      }
      taken.add(c);
    }
    out.set(p.name, new Set(p.cpuIds));
  });
  const rest = new Set<number>();
  for (let c = 0; c < host.logicalCpus; c++) if (!taken.has(c)) rest.add(c);
  out.set(DEFAULT_CPU_POOL, rest);
  return out;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
