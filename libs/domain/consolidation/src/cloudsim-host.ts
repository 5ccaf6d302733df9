import { powerWatts } from '@minicloud/domain-hypervisor';
import type { SimHostSpec } from './cloudsim-types';

// The entities of the CloudSim 3.0.3 power datacenter: a VM with its utilisation history, a host with
// its time-shared over-subscribing VM scheduler, and the SLA/energy bookkeeping both feed.

/** History entries as CloudSim keeps them (same-time entries replace the last), folded on the fly. */
export class StateFold {
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

/** A VM of the simulation (CloudSim PowerVm): demand from its trace, history for the detectors. */
export class Vm {
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

/** The SLA and shutdown figures the VMs' and hosts' histories add up (Helper.printResults' inputs). */
export interface Metrics {
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

/** How a host has its VMs' demand brought up to a time (the datacenter's Vm.updateVmProcessing). */
export interface VmProcessing {
  updateVmProcessing(vm: Vm, t: number): void;
}

/** CloudSim's VmSchedulerTimeSharedOverSubscription + HostDynamicWorkload + PowerHost, per host. */
export class Host {
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
  updateVmsProcessing(t: number, sim: VmProcessing): void {
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

/** Removes the first `item` from `list` (Java's List.remove(Object)). */
export function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
