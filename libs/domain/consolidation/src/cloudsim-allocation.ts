import type { Host, Vm } from './cloudsim-host';
import type { ConsolidationPolicy } from './cloudsim-types';

/** A planned migration: `vm` to `host`. */
export interface Migration {
  vm: Vm;
  host: Host;
}

/**
 * CloudSim's PowerVmAllocationPolicyMigrationAbstract (Beloglazov & Buyya): PABFD placement (the host
 * whose power grows least), and optimizeAllocation: VMs selected off overloaded hosts, then
 * underloaded hosts emptied when all their VMs fit elsewhere. Plans on the hosts' current state and
 * restores it; the datacenter starts the migrations.
 */
export class MigrationAllocation {
  constructor(
    private readonly hosts: readonly Host[],
    private readonly vmTable: Map<Vm, Host>,
    private readonly policy: ConsolidationPolicy,
    /** A VM's CPU demand at the current clock (trace utilisation x MIPS), the sort key of the VMs to place. */
    private readonly cpuDemandMipsNow: (vm: Vm) => number,
  ) {}

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
    const key = new Map(vms.map((v) => [v, this.cpuDemandMipsNow(v)]));
    vms.sort((a, b) => key.get(b)! - key.get(a)!);
  }

  /** The migrations of one optimisation pass (none for the dvfs policy). */
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
}
