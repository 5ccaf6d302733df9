import { InvalidArgumentError } from '@minicloud/domain-errors';
import { MigrationAllocation } from './cloudsim-allocation';
import { Host, Vm, type Metrics, type VmProcessing, removeFrom } from './cloudsim-host';
import type { ConsolidationPolicy, ConsolidationResult, DatacenterScenario } from './cloudsim-types';
import { VM_HISTORY_LENGTH } from './overload-detection';

/** The datacenter: the VMs' traces, processing updates, energy, migrations in flight, the event loop. */
class Simulation implements VmProcessing {
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
  private readonly allocation: MigrationAllocation;
  constructor(scenario: DatacenterScenario, private readonly policy: ConsolidationPolicy, private readonly interval: number) {
    this.hosts = scenario.hosts.map((h, i) => new Host(i, h, this.metrics));
    this.vms = scenario.vms.map((v, i) => {
      const data = new Float64Array(v.samplesPercent.length + 1);
      v.samplesPercent.forEach((p, j) => (data[j] = p / 100));
      data[v.samplesPercent.length] = data[v.samplesPercent.length - 1];
      return new Vm(i, v.mips, v.ramMb, v.bwMbps, data, this.metrics);
    });
    this.allocation = new MigrationAllocation(this.hosts, this.vmTable, policy, (vm) => this.utilization(vm, this.clock) * vm.mips);
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
      const host = this.policy.kind === 'dvfs' ? this.hosts.find((h) => h.isSuitableForVm(vm)) : this.allocation.findHostForVm(vm, new Set());
      if (!host) throw new InvalidArgumentError('scenario.vms', `VM ${vm.id} fits on no host`);
      host.vmCreate(vm);
      this.vmTable.set(vm, host);
      vm.beingInstantiated = false;
      // Its cloudlet is submitted only at 0.1 s: until the first update the VM asks for nothing
      // (CloudletSchedulerDynamicWorkload with no cloudlet), while the scheduler keeps its full MIPS.
      vm.requestedMips = 0;
    }
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
        for (const m of this.allocation.optimizeAllocation()) {
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