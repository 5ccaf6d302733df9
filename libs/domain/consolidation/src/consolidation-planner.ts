import { InvalidArgumentError } from '@minicloud/domain-errors';
import { PowerModel, powerWatts } from '@minicloud/domain-hypervisor';
import { DetectorHost, DetectorVm, OverloadDetector } from './overload-detection';
import { VmSelectionPolicy } from './vm-selection';

/**
 * A host as the live balancer sees it (a snapshot the controller gathers).
 * - `active`: up, enabled, not in maintenance: may give and take VMs;
 * - `standby`: powered off by DPM: takes VMs only after a wake;
 * - `unavailable`: maintenance, disabled, down, fenced...: neither gives nor takes VMs, never put in standby.
 */
export interface PlannerHost {
  readonly hostId: string;
  readonly power: 'active' | 'standby' | 'unavailable';
  /** CPU capacity, MHz (logical CPUs x core MHz; CloudSim's host MIPS). */
  readonly cpuMhzTotal: number;
  /** Allocatable vCPUs (logical CPUs x cpu_allocation_ratio - reserved) and what claims use now. */
  readonly vcpusCapacity: number;
  readonly vcpusUsed: number;
  /** Allocatable RAM (total x ram_allocation_ratio - reserved) and what claims use now, MB. */
  readonly ramMbCapacity: number;
  readonly ramMbUsed: number;
  /** NIC, Mbit/s (migration time = RAM / (NIC / 2), as CloudSim). */
  readonly nicMbps: number;
  /** SPECpower table of the host. */
  readonly powerModel: PowerModel;
  /**
   * Claims on the host that are not VMs of this snapshot (a migration or a boot in flight): a host
   * holding any is never put in standby.
   */
  readonly pendingClaims: boolean;
}

/** A VM on a host, with its CPU history. */
export interface PlannerVm {
  readonly instanceId: string;
  readonly hostId: string;
  readonly vcpus: number;
  readonly ramMb: number;
  /** CPU capacity of the VM, MHz (vCPUs x its host's core MHz). */
  readonly cpuMhz: number;
  /** Utilisation ratio now (of `cpuMhz`). */
  readonly utilizationRatio: number;
  /** Utilisation ratios, newest first, at most 30 (one per consolidation interval). */
  readonly history: readonly number[];
  /** False when the VM must stay (a task_state is set, not ACTIVE, in an affinity group...). */
  readonly movable: boolean;
  /** Anti-affinity server group: no two members on one host. */
  readonly antiAffinityGroupId?: string;
  /** Hosts the VM may go to (availability zone, aggregate metadata, image properties); undefined = any. */
  readonly allowedHostIds?: ReadonlySet<string>;
}

/** Policy and limits of one planning round. */
export interface ConsolidationPlanOptions {
  readonly detector: OverloadDetector;
  readonly selection: VmSelectionPolicy;
  /** Migrations the plan may start (the concurrency cap minus those in flight); >= 0. */
  readonly maxMigrations: number;
  /** DPM: active hosts kept powered on at least (vSphere keeps one); >= 0. Default 1. */
  readonly minActiveHosts?: number;
  /** DPM on: empty hosts go to standby and standby hosts are woken for overload. Default true. */
  readonly dpm?: boolean;
}

/** One live migration of the plan. */
export interface PlannedMigration {
  readonly instanceId: string;
  readonly sourceHostId: string;
  readonly destHostId: string;
  /** Why: the source is overloaded, or is being emptied (underloaded). */
  readonly reason: 'overload' | 'underload';
}

/** The outcome of one round: migrations to start, hosts to power off and on. */
export interface ConsolidationPlan {
  readonly migrations: PlannedMigration[];
  /** Active, empty hosts to put in standby (DPM power off). */
  readonly standby: string[];
  /** Standby hosts to power on: overload that no active host could absorb. */
  readonly wake: string[];
  readonly overloadedHostIds: string[];
  /** Underloaded hosts being emptied by this plan. */
  readonly evacuatedHostIds: string[];
}

interface HostWork {
  readonly spec: PlannerHost;
  vms: PlannerVm[];
  vcpusUsed: number;
  ramMbUsed: number;
}

/**
 * One round of dynamic consolidation (Beloglazov & Buyya, CCPE 24(13) 2012, as CloudSim 3.0.3's
 * PowerVmAllocationPolicyMigrationAbstract.optimizeAllocation) on a live snapshot, plus vSphere DPM:
 * 1. overloaded active hosts (the detector on each host's VMs and histories): VMs chosen by `selection`
 *    until the host is no longer overloaded; they are placed by power-aware best-fit decreasing (by
 *    CPU demand, each on the host whose power rises least) on active, not overloaded hosts that are not
 *    overloaded with the VM either, stay <= 100 % CPU and have the vCPUs and RAM (allocation ratios),
 *    within the VM's allowed hosts and never beside a member of its anti-affinity group. A VM nothing
 *    takes wakes a standby host that could hold it (DPM; moved on a later round once the host is up);
 * 2. underloaded hosts, least utilised first: a host whose VMs are all movable is emptied when every
 *    VM fits elsewhere (all or nothing) on hosts that already run VMs; hosts receiving VMs are not
 *    emptied in the same round;
 * 3. DPM: active hosts with no VM and no pending claim go to standby, keeping `minActiveHosts` on.
 * At most `maxMigrations` migrations: overload first; an underloaded host is emptied only if all its
 * VMs fit in what is left. Deterministic for a given input order (hosts and VMs as given).
 * @throws InvalidArgumentError (`max_migrations` / `min_active_hosts`) when negative.
 */
export function planConsolidation(hosts: readonly PlannerHost[], vms: readonly PlannerVm[], o: ConsolidationPlanOptions): ConsolidationPlan {
  if (!(o.maxMigrations >= 0)) throw new InvalidArgumentError('max_migrations', `must be >= 0, got ${o.maxMigrations}`);
  const minActive = o.minActiveHosts ?? 1;
  if (!(minActive >= 0)) throw new InvalidArgumentError('min_active_hosts', `must be >= 0, got ${minActive}`);
  const dpm = o.dpm ?? true;
  const work = new Map<string, HostWork>(hosts.map((h) => [h.hostId, { spec: h, vms: [], vcpusUsed: h.vcpusUsed, ramMbUsed: h.ramMbUsed }]));
  for (const vm of vms) work.get(vm.hostId)?.vms.push(vm);
  const active = [...work.values()].filter((w) => w.spec.power === 'active');

  const detectorVm = (vm: PlannerVm): DetectorVm => ({ requestedMips: vm.utilizationRatio * vm.cpuMhz, mips: vm.cpuMhz, ramMb: vm.ramMb, history: vm.history });
  const detectorHost = (w: HostWork): DetectorHost => ({ totalMips: w.spec.cpuMhzTotal, bwMbps: w.spec.nicMbps, vms: w.vms.map(detectorVm) });
  const demandMhz = (w: HostWork) => w.vms.reduce((s, vm) => s + vm.utilizationRatio * vm.cpuMhz, 0);
  const utilization = (w: HostWork) => demandMhz(w) / w.spec.cpuMhzTotal;
  const overloaded = (w: HostWork, extra?: PlannerVm) => w.vms.length + (extra ? 1 : 0) > 0 && o.detector(detectorHost(w), extra && detectorVm(extra));

  const migrations: PlannedMigration[] = [];
  const moveOut = (w: HostWork, vm: PlannerVm) => {
    w.vms = w.vms.filter((v) => v !== vm);
    w.vcpusUsed -= vm.vcpus;
    w.ramMbUsed -= vm.ramMb;
  };
  const moveIn = (w: HostWork, vm: PlannerVm) => {
    w.vms.push(vm);
    w.vcpusUsed += vm.vcpus;
    w.ramMbUsed += vm.ramMb;
  };
  const fits = (w: HostWork, vm: PlannerVm) => {
    const s = w.spec;
    if (vm.allowedHostIds && !vm.allowedHostIds.has(s.hostId)) return false;
    if (w.vcpusUsed + vm.vcpus > s.vcpusCapacity || w.ramMbUsed + vm.ramMb > s.ramMbCapacity) return false;
    if (vm.antiAffinityGroupId && w.vms.some((v) => v.antiAffinityGroupId === vm.antiAffinityGroupId && v.instanceId !== vm.instanceId)) return false;
    return true;
  };
  /** PABFD: the fitting host whose power rises least. */
  const findHost = (vm: PlannerVm, excluded: ReadonlySet<HostWork>): HostWork | undefined => {
    let best: HostWork | undefined;
    let minIncrease = Number.MAX_VALUE;
    const add = vm.utilizationRatio * vm.cpuMhz;
    for (const w of active) {
      if (excluded.has(w) || !fits(w, vm)) continue;
      if (w.vms.length > 0 && overloaded(w, vm)) continue;
      const now = utilization(w);
      const after = (demandMhz(w) + add) / w.spec.cpuMhzTotal;
      if (after > 1) continue;
      const increase = powerWatts(w.spec.powerModel, after) - powerWatts(w.spec.powerModel, Math.min(1, now));
      if (increase < minIncrease) {
        minIncrease = increase;
        best = w;
      }
    }
    return best;
  };

  // 1. overloaded hosts
  const over = active.filter((w) => overloaded(w));
  const overSet = new Set(over);
  const toMigrate: { vm: PlannerVm; from: HostWork }[] = [];
  for (const w of over) {
    const chosen = new Set<PlannerVm>();
    while (toMigrate.length < o.maxMigrations) {
      const pick = o.selection(w.vms.map((v) => ({ ramMb: v.ramMb, utilizationRatio: v.utilizationRatio, history: v.history, inMigration: !v.movable || chosen.has(v), vm: v })));
      if (!pick) break;
      chosen.add(pick.vm);
      toMigrate.push({ vm: pick.vm, from: w });
      moveOut(w, pick.vm);
      if (!overloaded(w)) break;
    }
  }
  toMigrate.sort((a, b) => b.vm.utilizationRatio * b.vm.cpuMhz - a.vm.utilizationRatio * a.vm.cpuMhz);
  const wake: string[] = [];
  const standbyPool = [...work.values()].filter((w) => w.spec.power === 'standby');
  for (const { vm, from } of toMigrate) {
    const to = findHost(vm, overSet);
    if (to) {
      moveIn(to, vm);
      migrations.push({ instanceId: vm.instanceId, sourceHostId: from.spec.hostId, destHostId: to.spec.hostId, reason: 'overload' });
      continue;
    }
    moveIn(from, vm); // stays
    if (!dpm) continue;
    const candidate = standbyPool.find((w) => !wake.includes(w.spec.hostId) && fits(w, vm));
    if (candidate) wake.push(candidate.spec.hostId);
  }

  // 2. underloaded hosts
  const evacuated: string[] = [];
  const excludedUnder = new Set<HostWork>(over);
  // CloudSim excludes switched-off (idle) hosts as targets when emptying: consolidation never wakes one.
  const excludedPlacement = new Set<HostWork>([...over, ...active.filter((w) => w.vms.length === 0)]);
  for (;;) {
    let under: HostWork | undefined;
    let min = 1;
    for (const w of active) {
      if (excludedUnder.has(w) || w.vms.length === 0) continue;
      const u = utilization(w);
      if (u < min) {
        min = u;
        under = w;
      }
    }
    if (!under) break;
    excludedUnder.add(under);
    excludedPlacement.add(under);
    if (under.vms.some((v) => !v.movable)) continue;
    if (migrations.length + under.vms.length > o.maxMigrations) continue;
    const vmsOut = [...under.vms].sort((a, b) => b.utilizationRatio * b.cpuMhz - a.utilizationRatio * a.cpuMhz);
    const placed: { vm: PlannerVm; to: HostWork }[] = [];
    for (const vm of vmsOut) {
      const to = findHost(vm, excludedPlacement);
      if (!to) break;
      moveIn(to, vm);
      placed.push({ vm, to });
    }
    if (placed.length !== vmsOut.length) {
      for (const p of placed) moveOut(p.to, p.vm);
      continue;
    }
    for (const p of placed) {
      moveOut(under, p.vm);
      excludedUnder.add(p.to);
      migrations.push({ instanceId: p.vm.instanceId, sourceHostId: under.spec.hostId, destHostId: p.to.spec.hostId, reason: 'underload' });
    }
    evacuated.push(under.spec.hostId);
  }

  // 3. DPM standby: hosts empty now (not merely emptied by this plan: their VMs still run there).
  const standby: string[] = [];
  if (dpm && wake.length === 0) {
    const targets = new Set(migrations.map((m) => m.destHostId));
    let on = active.length;
    for (const w of active) {
      if (on <= minActive) break;
      const empty = w.spec.vcpusUsed === 0 && w.spec.ramMbUsed === 0 && !w.spec.pendingClaims && !vms.some((v) => v.hostId === w.spec.hostId);
      if (!empty || targets.has(w.spec.hostId)) continue;
      standby.push(w.spec.hostId);
      on--;
    }
  }
  return { migrations, standby, wake, overloadedHostIds: over.map((w) => w.spec.hostId), evacuatedHostIds: evacuated };
}
