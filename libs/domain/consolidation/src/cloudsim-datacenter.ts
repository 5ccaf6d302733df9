import { InvalidArgumentError } from '@minicloud/domain-errors';
import { PowerModel, powerWatts } from '@minicloud/domain-hypervisor';
import { OverloadDetector, VM_HISTORY_LENGTH } from './overload-detection';
import { VmSelectionPolicy } from './vm-selection';

/** A host of the simulated datacenter (CloudSim PowerHostUtilizationHistory). */
export interface SimHostSpec {
  readonly pes: number;
  readonly mipsPerPe: number;
  readonly ramMb: number;
  /** NIC, Mbit/s. */
  readonly bwMbps: number;
  readonly powerModel: PowerModel;
}

/** A VM (CloudSim PowerVm, 1 vCPU) with its CPU trace. */
export interface SimVmSpec {
  readonly mips: number;
  readonly ramMb: number;
  readonly bwMbps: number;
  /** 288 PlanetLab samples, integer percent (one per 300 s). */
  readonly samplesPercent: readonly number[];
}

/** Consolidation policy: detector + selection (PABFD placement), or `dvfs` (first fit, no migration). */
export type ConsolidationPolicy = { kind: 'dvfs' } | { kind: 'migration'; detector: OverloadDetector; selection: VmSelectionPolicy };

/** Scenario: hosts, VMs, timing. */
export interface DatacenterScenario {
  readonly hosts: readonly SimHostSpec[];
  readonly vms: readonly SimVmSpec[];
  /** Default 300 s (CloudSim Constants.SCHEDULING_INTERVAL). */
  readonly schedulingIntervalSeconds?: number;
  /** Default 86,400 s (Constants.SIMULATION_LIMIT). */
  readonly simulationLimitSeconds?: number;
}

/** What Helper.printResults prints, as ratios (multiply by 100 for percent). */
export interface ConsolidationResult {
  readonly energyKwh: number;
  readonly migrations: number;
  /** SLA time per active host (SLATAH), ratio. */
  readonly slatahRatio: number;
  /** Performance degradation due to migration (PDM), ratio. */
  readonly pdmRatio: number;
  /** SLATAH x PDM. */
  readonly slavRatio: number;
  /** energy (kWh) x SLAV. */
  readonly esv: number;
  readonly overallSlavRatio: number;
  readonly averageSlavRatio: number;
  readonly hostShutdowns: number;
  readonly meanTimeBeforeShutdownSeconds: number;
  readonly meanTimeBeforeMigrationSeconds: number;
  /** VMs removed because their demand reached 0 (CloudSim "completed VMs"). */
  readonly vmsRemoved: number;
  readonly lastClockSeconds: number;
}

/** History entries as CloudSim keeps them (same-time entries replace the last), folded on the fly. */
class StateFold {
  private t = -1;
  private alloc = 0;
  private req = 0;
  private flag = false;
  private has = false;
  constructor(private readonly onInterval: (dt: number, alloc: number, req: number, flag: boolean) => void,
    private readonly onCommit: (t: number, flag: boolean) => void) {}
  add(t: number, alloc: number, req: number, flag: boolean): void {
    if (this.has && this.t !== t) {
      this.onCommit(this.t, this.flag);
      this.onInterval(t - this.t, this.alloc, this.req, this.flag);
    }
    this.t = t;
    this.alloc = alloc;
    this.req = req;
    this.flag = flag;
    this.has = true;
  }
  finish(): void {
    if (this.has) this.onCommit(this.t, this.flag);
    this.has = false;
  }
}

class Vm {
  requestedMips: number;
  history: number[] = [];
  powerPreviousTime = 0;
  host: Host | null = null;
  inMigration = false;
  beingInstantiated = true;
  ramAllocated = 0;
  utilizationRatio = 0;
  state: StateFold;
  constructor(readonly id: number, readonly mips: number, readonly ramMb: number, readonly bwMbps: number, readonly data: Float64Array, m: Metrics) {
    this.requestedMips = mips;
    let previousInMigration = false;
    let lastFinished = 0;
    this.state = new StateFold(
      (dt, alloc, req, inMig) => {
        m.totalAllocated += alloc * dt;
        m.totalRequested += req * dt;
        if (alloc < req) {
          m.slaViolationSum += (req - alloc) / req;
          m.slaViolationCount++;
          if (inMig) m.underAllocatedMigration += (req - alloc) * dt;
        }
      },
      (t, inMig) => {
        if (previousInMigration && !inMig) m.timesBeforeMigration.push(t - lastFinished);
        if (!previousInMigration && inMig) lastFinished = t;
        previousInMigration = inMig;
      },
    );
  }
  get ramMbForDetector(): number {
    return this.ramMb;
  }
}

interface Metrics {
  totalAllocated: number;
  totalRequested: number;
  underAllocatedMigration: number;
  slaViolationSum: number;
  slaViolationCount: number;
  timesBeforeMigration: number[];
  slaViolationTime: number;
  activeTime: number;
  timesBeforeShutdown: number[];
}

/** CloudSim's VmSchedulerTimeSharedOverSubscription + HostDynamicWorkload + PowerHost, per host. */
class Host {
  vmList: Vm[] = [];
  migratingIn: Vm[] = [];
  schedIn = new Set<Vm>();
  schedOut = new Set<Vm>();
  requested = new Map<Vm, number>();
  allocated = new Map<Vm, number>();
  availableMips: number;
  utilizationMips = 0;
  previousUtilizationMips = 0;
  ramUsed = 0;
  bwUsed = 0;
  readonly totalMips: number;
  readonly state: StateFold;
  constructor(readonly id: number, readonly spec: SimHostSpec, m: Metrics) {
    this.totalMips = spec.pes * spec.mipsPerPe;
    this.availableMips = this.totalMips;
    let previousActive = true;
    let lastOn = 0;
    this.state = new StateFold(
      (dt, alloc, req, active) => {
        if (active) {
          m.activeTime += dt;
          if (alloc < req) m.slaViolationTime += dt;
        }
      },
      (t, active) => {
        if (previousActive && !active) m.timesBeforeShutdown.push(t - lastOn);
        if (!previousActive && active) lastOn = t;
        previousActive = active;
      },
    );
  }

  // ---- VmSchedulerTimeShared / OverSubscription
  private allocRaw(vm: Vm, req: number): void {
    const pe = this.spec.mipsPerPe;
    const capped = req > pe ? pe : req;
    this.requested.set(vm, req);
    let total = capped;
    if (this.schedIn.has(vm)) total *= 0.1;
    if (this.availableMips >= total) {
      let a = capped;
      if (this.schedOut.has(vm)) a *= 0.9;
      else if (this.schedIn.has(vm)) a *= 0.1;
      this.allocated.set(vm, a);
      this.availableMips -= total;
    } else {
      this.redistribute();
    }
  }
  private redistribute(): void {
    const pe = this.spec.mipsPerPe;
    let totalRequired = 0;
    for (const [vm, req] of this.requested) {
      let r = req > pe ? pe : req;
      if (this.schedIn.has(vm)) r *= 0.1;
      totalRequired += r;
    }
    const scale = this.totalMips / totalRequired;
    this.allocated.clear();
    for (const [vm, req] of this.requested) {
      let mips = req > pe ? pe : req;
      if (this.schedOut.has(vm)) mips = mips * scale * 0.9;
      else if (this.schedIn.has(vm)) mips = mips * 0.1 * scale;
      else mips *= scale;
      this.allocated.set(vm, Math.floor(mips));
    }
    this.availableMips = 0;
  }
  allocatePes(vm: Vm, req: number): void {
    if (vm.inMigration) {
      if (!this.schedIn.has(vm) && !this.schedOut.has(vm)) this.schedOut.add(vm);
    } else this.schedOut.delete(vm);
    this.allocRaw(vm, req);
  }
  deallocatePes(vm: Vm): void {
    this.requested.delete(vm);
    this.allocated.clear();
    this.availableMips = this.totalMips;
    const rest = [...this.requested];
    this.requested.clear();
    for (const [v, r] of rest) this.allocRaw(v, r);
  }
  deallocateAllPes(): void {
    this.requested.clear();
    this.allocated.clear();
    this.availableMips = this.totalMips;
  }

  // ---- Host
  isSuitableForVm(vm: Vm): boolean {
    const req = vm.beingInstantiated ? vm.mips : vm.requestedMips;
    if (this.spec.mipsPerPe < req || this.availableMips < req) return false;
    if (!vm.beingInstantiated) return true; // RAM/BW demand is 0 once running (UtilizationModelNull)
    return this.spec.ramMb - this.ramUsed >= vm.ramMb && this.spec.bwMbps - this.bwUsed >= vm.bwMbps;
  }
  vmCreate(vm: Vm): void {
    if (vm.beingInstantiated) {
      this.ramUsed += vm.ramMb;
      this.bwUsed += vm.bwMbps;
    }
    this.allocatePes(vm, vm.beingInstantiated ? vm.mips : vm.requestedMips);
    this.vmList.push(vm);
    vm.host = this;
  }
  vmDestroy(vm: Vm): void {
    this.deallocatePes(vm);
    removeFrom(this.vmList, vm);
    vm.host = null;
  }
  utilizationOfCpu(): number {
    const u = this.utilizationMips / this.totalMips;
    return u > 1 && u < 1.01 ? 1 : u;
  }
  previousUtilizationOfCpu(): number {
    const u = this.previousUtilizationMips / this.totalMips;
    return u > 1 && u < 1.01 ? 1 : u;
  }
  power(u: number): number {
    return powerWatts(this.spec.powerModel, u > 1 ? 1 : u < 0 ? 0 : u);
  }
  /** HostDynamicWorkload.updateVmsProcessing. */
  updateVmsProcessing(t: number, sim: Simulation): void {
    for (const vm of this.vmList) sim.updateVmProcessing(vm, t);
    this.previousUtilizationMips = this.utilizationMips;
    let util = 0;
    let hostRequested = 0;
    this.deallocateAllPes();
    for (const vm of this.vmList) this.allocatePes(vm, vm.requestedMips);
    for (const vm of this.vmList) {
      const req = vm.requestedMips;
      let alloc = this.allocated.get(vm) ?? 0;
      if (!this.migratingIn.includes(vm)) {
        vm.state.add(t, alloc, req, vm.inMigration);
        if (vm.inMigration) alloc /= 0.9;
      }
      util += alloc;
      hostRequested += req;
    }
    this.utilizationMips = util;
    this.state.add(t, util, hostRequested, util > 0);
  }
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

interface Migration {
  vm: Vm;
  host: Host;
}

class Simulation {
  readonly metrics: Metrics = {
    totalAllocated: 0, totalRequested: 0, underAllocatedMigration: 0, slaViolationSum: 0, slaViolationCount: 0,
    timesBeforeMigration: [], slaViolationTime: 0, activeTime: 0, timesBeforeShutdown: [],
  };
  readonly hosts: Host[];
  readonly vms: Vm[];
  readonly vmTable = new Map<Vm, Host>();
  energyWattSeconds = 0;
  migrations = 0;
  lastProcessTime = 0;
  clock = 0;
  removed = 0;
  constructor(scenario: DatacenterScenario, private readonly policy: ConsolidationPolicy, private readonly interval: number) {
    this.hosts = scenario.hosts.map((h, i) => new Host(i, h, this.metrics));
    this.vms = scenario.vms.map((v, i) => {
      const data = new Float64Array(v.samplesPercent.length + 1);
      v.samplesPercent.forEach((p, j) => (data[j] = p / 100));
      data[v.samplesPercent.length] = data[v.samplesPercent.length - 1];
      return new Vm(i, v.mips, v.ramMb, v.bwMbps, data, this.metrics);
    });
  }

  /** UtilizationModelPlanetLabInMemory.getUtilization. */
  utilization(vm: Vm, t: number): number {
    const iv = this.interval;
    if (t % iv === 0) return vm.data[Math.trunc(t / iv)];
    const t1 = Math.floor(t / iv);
    const t2 = Math.ceil(t / iv);
    const u1 = vm.data[t1];
    const u2 = vm.data[t2];
    return u1 + ((u2 - u1) / ((t2 - t1) * iv)) * (t - t1 * iv);
  }

  /** Vm.updateVmProcessing + PowerVm history. */
  updateVmProcessing(vm: Vm, t: number): void {
    const u = this.utilization(vm, t);
    vm.utilizationRatio = u;
    vm.requestedMips = u * vm.mips;
    if (t > vm.powerPreviousTime && (t - 0.1) % this.interval === 0) {
      if (this.clock !== 0 || u !== 0) {
        vm.history.unshift(u);
        if (vm.history.length > VM_HISTORY_LENGTH) vm.history.pop();
      }
      vm.powerPreviousTime = t;
    }
  }

  placeInitially(): void {
    for (const vm of this.vms) {
      const host = this.policy.kind === 'dvfs' ? this.hosts.find((h) => h.isSuitableForVm(vm)) : this.findHostForVm(vm, new Set());
      if (!host) throw new InvalidArgumentError('scenario.vms', `VM ${vm.id} fits on no host`);
      host.vmCreate(vm);
      this.vmTable.set(vm, host);
      vm.beingInstantiated = false;
      // Its cloudlet is submitted only at 0.1 s: until the first update the VM asks for nothing
      // (CloudletSchedulerDynamicWorkload with no cloudlet), while the scheduler keeps its full MIPS.
      vm.requestedMips = 0;
    }
  }

  detectorHost(host: Host) {
    return { totalMips: host.totalMips, bwMbps: host.spec.bwMbps, vms: host.vmList };
  }
  isOverUtilized(host: Host, extra?: Vm): boolean {
    if (this.policy.kind !== 'migration') return false;
    return this.policy.detector(this.detectorHost(host), extra);
  }

  /** PowerVmAllocationPolicyMigrationAbstract.findHostForVm (PABFD). */
  findHostForVm(vm: Vm, excluded: Set<Host>): Host | undefined {
    let minPower = Number.MAX_VALUE;
    let chosen: Host | undefined;
    const req = vm.beingInstantiated ? vm.mips : vm.requestedMips;
    for (const host of this.hosts) {
      if (excluded.has(host) || !host.isSuitableForVm(vm)) continue;
      // CloudSim 3.0.3 getUtilizationOfCpuMips(host): allocated MIPS of the VMs on the host now
      // (including those placed earlier in this pass), a migrating-in VM counted at its full demand.
      let hostUtil = 0;
      for (const v2 of host.vmList) {
        const a = host.allocated.get(v2) ?? 0;
        hostUtil += host.migratingIn.includes(v2) ? a + (a * 0.9) / 0.1 : a;
      }
      if (hostUtil !== 0 && this.isOverUtilized(host, vm)) continue;
      const after = (hostUtil + req) / host.totalMips;
      if (after > 1 || host.utilizationOfCpu() > 1) continue; // CloudSim's SPECpower model rejects > 100 %
      const diff = host.power(after) - host.power(host.utilizationOfCpu());
      if (diff < minPower) {
        minPower = diff;
        chosen = host;
      }
    }
    return chosen;
  }

  sortByCpuUtilization(vms: Vm[]): void {
    const key = new Map(vms.map((v) => [v, this.utilization(v, this.clock) * v.mips]));
    vms.sort((a, b) => key.get(b)! - key.get(a)!);
  }

  optimizeAllocation(): Migration[] {
    if (this.policy.kind !== 'migration') return [];
    const selection = this.policy.selection;
    const overUtilized = this.hosts.filter((h) => this.isOverUtilized(h));
    const saved = this.hosts.map((h) => h.vmList.filter((vm) => !h.migratingIn.includes(vm)));
    const toMigrate: Vm[] = [];
    for (const host of overUtilized) {
      for (;;) {
        const vm = selection(host.vmList);
        if (!vm) break;
        toMigrate.push(vm);
        host.vmDestroy(vm);
        if (!this.isOverUtilized(host)) break;
      }
    }
    const overSet = new Set(overUtilized);
    const map: Migration[] = [];
    this.sortByCpuUtilization(toMigrate);
    for (const vm of toMigrate) {
      const host = this.findHostForVm(vm, overSet);
      if (host) {
        host.vmCreate(vm);
        map.push({ vm, host });
      }
    }
    map.push(...this.underUtilizedMigrations(overUtilized));
    this.restore(saved);
    return map;
  }

  private underUtilizedMigrations(overUtilized: Host[]): Migration[] {
    const map: Migration[] = [];
    const switchedOff = this.hosts.filter((h) => h.utilizationOfCpu() === 0);
    const excludedUnder = new Set<Host>([...overUtilized, ...switchedOff]);
    const excludedPlacement = new Set<Host>([...overUtilized, ...switchedOff]);
    while (excludedUnder.size !== this.hosts.length) {
      const under = this.underUtilizedHost(excludedUnder);
      if (!under) break;
      excludedUnder.add(under);
      excludedPlacement.add(under);
      const vms = under.vmList.filter((vm) => !vm.inMigration);
      if (vms.length === 0) continue;
      this.sortByCpuUtilization(vms);
      const placement: Migration[] = [];
      for (const vm of vms) {
        const host = this.findHostForVm(vm, excludedPlacement);
        if (!host) {
          for (const m of placement) m.host.vmDestroy(m.vm);
          placement.length = 0;
          break;
        }
        host.vmCreate(vm);
        placement.push({ vm, host });
      }
      for (const m of placement) excludedUnder.add(m.host);
      map.push(...placement);
    }
    return map;
  }

  private underUtilizedHost(excluded: Set<Host>): Host | undefined {
    let min = 1;
    let chosen: Host | undefined;
    for (const host of this.hosts) {
      if (excluded.has(host)) continue;
      const u = host.utilizationOfCpu();
      if (u > 0 && u < min && !this.allMigratingOutOrAnyIn(host)) {
        min = u;
        chosen = host;
      }
    }
    return chosen;
  }

  private allMigratingOutOrAnyIn(host: Host): boolean {
    for (const vm of host.vmList) {
      if (!vm.inMigration) return false;
      if (host.migratingIn.includes(vm)) return true;
    }
    return true;
  }

  private restore(saved: Vm[][]): void {
    this.hosts.forEach((host) => {
      for (const vm of host.vmList) vm.host = null;
      host.vmList = [];
      host.deallocateAllPes();
      for (const vm of host.migratingIn) {
        host.vmList.push(vm);
        host.schedIn.add(vm);
        host.allocatePes(vm, vm.requestedMips);
      }
    });
    this.hosts.forEach((host, i) => {
      for (const vm of saved[i]) {
        host.vmCreate(vm);
        this.vmTable.set(vm, host);
      }
    });
  }

  /** PowerHost.addMigratingInVm. */
  startMigration(vm: Vm, target: Host, t: number): void {
    vm.inMigration = true;
    if (target.migratingIn.includes(vm)) return;
    target.schedIn.add(vm);
    target.allocatePes(vm, vm.requestedMips);
    target.migratingIn.push(vm);
    target.vmList.push(vm);
    target.updateVmsProcessing(t, this);
    vm.host?.updateVmsProcessing(t, this);
  }

  /** Datacenter.processVmMigrate. */
  completeMigration(vm: Vm, target: Host): void {
    const source = this.vmTable.get(vm);
    this.vmTable.delete(vm);
    source?.vmDestroy(vm);
    target.deallocatePes(vm);
    removeFrom(target.migratingIn, vm);
    removeFrom(target.vmList, vm);
    target.schedIn.delete(vm);
    vm.inMigration = false;
    target.vmCreate(vm);
    this.vmTable.set(vm, target);
  }

  /** PowerDatacenter.updateCloudetProcessingWithoutSchedulingFutureEventsForce. */
  update(t: number): void {
    this.clock = t;
    for (const host of this.hosts) host.updateVmsProcessing(t, this);
    const dt = t - this.lastProcessTime;
    if (dt > 0) {
      for (const host of this.hosts) {
        const from = host.previousUtilizationOfCpu();
        if (from === 0) continue;
        const p1 = host.power(from);
        const p2 = host.power(host.utilizationOfCpu());
        this.energyWattSeconds += (p1 + (p2 - p1) / 2) * dt;
      }
    }
    for (const host of this.hosts) {
      const completed = host.vmList.filter((vm) => !vm.inMigration && vm.requestedMips === 0);
      for (const vm of completed) {
        const h = this.vmTable.get(vm);
        this.vmTable.delete(vm);
        h?.vmDestroy(vm);
        this.removed++;
      }
    }
    this.lastProcessTime = t;
  }

  run(limit: number): number {
    this.placeInitially();
    const bwMbpsToMbPerSecond = (h: Host) => h.spec.bwMbps / 2 / 8;
    let pending: { at: number; vm: Vm; host: Host }[] = [];
    let tick = 0.1 + this.interval;
    let last = 0;
    while (tick <= limit) {
      // migration completions before the tick, grouped by identical time
      pending.sort((a, b) => a.at - b.at);
      let i = 0;
      while (i < pending.length && pending[i].at < tick) {
        const at = pending[i].at;
        this.clock = at;
        if (at > this.lastProcessTime) this.update(at);
        while (i < pending.length && pending[i].at === at) {
          this.completeMigration(pending[i].vm, pending[i].host);
          i++;
        }
        this.update(at);
        last = at;
      }
      pending = pending.slice(i);
      this.clock = tick;
      if (tick > this.lastProcessTime) {
        this.update(tick);
        for (const m of this.optimizeAllocation()) {
          this.startMigration(m.vm, m.host, tick);
          this.migrations++;
          pending.push({ at: tick + m.vm.ramMb / bwMbpsToMbPerSecond(m.host), vm: m.vm, host: m.host });
        }
      }
      last = tick;
      tick += this.interval;
    }
    return last;
  }
}

/**
 * Runs CloudSim 3.0.3's power-aware datacenter (PowerDatacenter + PowerVmAllocationPolicyMigration*
 * of Beloglazov & Buyya, CCPE 24(13) 2012) in virtual time, reproducing its order of operations:
 * processing at 300.1, 600.1, ... s (the cloudlets start at 0.1 s); at each: every host updates its
 * VMs (demand = trace at t x VM MIPS, allocation by the over-subscribing time-shared scheduler with
 * the 10 % migration overhead), energy of the elapsed interval by linear interpolation of host power
 * (a host at 0 % draws 0 W: switched off), VMs whose demand is 0 are removed, then
 * optimizeAllocation: overloaded hosts -> VM selection -> PABFD placement excluding overloaded hosts;
 * then underloaded hosts (least utilised first) emptied when all their VMs fit; migrations take
 * RAM / (host bandwidth / 2) and complete with a processing update. The day ends at the last tick
 * <= the limit (CloudSim stops before processing the tick at 86,400.1 s).
 * @throws InvalidArgumentError (`scenario.vms`) when a VM fits on no host at time 0.
 */
export function simulateConsolidation(scenario: DatacenterScenario, policy: ConsolidationPolicy): ConsolidationResult {
  const interval = scenario.schedulingIntervalSeconds ?? 300;
  const limit = scenario.simulationLimitSeconds ?? 86_400;
  const sim = new Simulation(scenario, policy, interval);
  const lastClock = sim.run(limit);
  for (const vm of sim.vms) vm.state.finish();
  for (const host of sim.hosts) host.state.finish();
  const m = sim.metrics;
  const energyKwh = sim.energyWattSeconds / 3_600_000;
  const slatah = m.slaViolationTime / m.activeTime;
  const pdm = m.underAllocatedMigration / m.totalRequested;
  const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    energyKwh,
    migrations: sim.migrations,
    slatahRatio: slatah,
    pdmRatio: pdm,
    slavRatio: slatah * pdm,
    esv: energyKwh * slatah * pdm,
    overallSlavRatio: (m.totalRequested - m.totalAllocated) / m.totalRequested,
    averageSlavRatio: m.slaViolationCount === 0 ? 0 : m.slaViolationSum / m.slaViolationCount,
    hostShutdowns: m.timesBeforeShutdown.length,
    meanTimeBeforeShutdownSeconds: mean(m.timesBeforeShutdown),
    meanTimeBeforeMigrationSeconds: mean(m.timesBeforeMigration),
    vmsRemoved: sim.removed,
    lastClockSeconds: lastClock,
  };
}
