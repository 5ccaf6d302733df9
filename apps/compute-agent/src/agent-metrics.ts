import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import { logicalCpus, type VmModelSnapshot } from '@minicloud/domain-hypervisor';
import type { OverlayAgent } from './overlay';
import type { SimulatedHost } from './simulated-host';

/**
 * The agent's host metrics, read at scrape time from the hosts' latest model tick (scrapes never advance
 * the models). Per-instance series (`minicloud_instance_*`) are exported for at most
 * `maxInstancesPerHost` VMs per host (AGENT_METRICS_MAX_INSTANCES, default 200) to bound label
 * cardinality; the VMs beyond it (latest booted) are left out of those series but still count in the host
 * series. See apps/compute-agent/README.md.
 * @returns the spawn-duration histogram (seconds of clock time), labelled host_id
 */
export function registerAgentMetrics(
  registry: Registry,
  hosts: readonly SimulatedHost[],
  overlays: () => readonly OverlayAgent[],
  maxInstancesPerHost: number,
): Histogram<'host_id'> {
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge<string>) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect(this: Gauge<string>) { this.reset(); collect(this); } });
  const kinds = ['host_id', 'kind'];
  gauge('minicloud_host_vcpus', 'Host vCPUs: logical CPUs (capacity) and vCPUs of its VMs (allocated).', kinds, (g) => {
    for (const h of hosts) {
      g.set({ host_id: h.hostId, kind: 'capacity' }, logicalCpus(h.profile));
      g.set({ host_id: h.hostId, kind: 'allocated' }, h.usage().vcpusUsed);
    }
  });
  gauge('minicloud_host_ram_mb', 'Host RAM in MiB: capacity and allocated to VMs.', kinds, (g) => {
    for (const h of hosts) {
      g.set({ host_id: h.hostId, kind: 'capacity' }, h.profile.ramMb);
      g.set({ host_id: h.hostId, kind: 'allocated' }, h.usage().ramMbUsed);
    }
  });
  gauge('minicloud_host_disk_gb', 'Host local disk in GiB: capacity and allocated to VMs.', kinds, (g) => {
    for (const h of hosts) {
      g.set({ host_id: h.hostId, kind: 'capacity' }, h.profile.diskGb);
      g.set({ host_id: h.hostId, kind: 'allocated' }, h.usage().diskGbUsed);
    }
  });
  const perHost = (name: string, help: string, value: (h: SimulatedHost) => number) =>
    gauge(name, help, ['host_id'], (g) => hosts.forEach((h) => g.set({ host_id: h.hostId }, value(h))));
  perHost('minicloud_host_running_vms', 'VMs in power state running.', (h) => h.usage().runningVms);
  perHost('minicloud_host_cpu_utilization_ratio', 'Host CPU utilisation (0..1) from the VMs\' workload models.', (h) => h.usage().cpuUtilizationRatio);
  perHost('minicloud_host_power_watts', 'Host wall power from its SPECpower model at the current CPU utilisation (0 in DPM standby).', (h) => h.usage().powerWatts);
  perHost('minicloud_host_standby', '1 while the host is in DPM standby (powered off), else 0.', (h) => (h.usage().standby ? 1 : 0));
  new Counter({
    name: 'minicloud_host_energy_joules_total',
    help: 'Energy drawn by the host since its agent started (SPECpower model integrated over model ticks), joules.',
    labelNames: ['host_id'],
    registers: [registry],
    collect(this: Counter<string>) {
      this.reset();
      for (const h of hosts) this.inc({ host_id: h.hostId }, h.modelSnapshot().energyJoulesTotal);
    },
  });
  perHost('minicloud_host_image_cache_bytes', 'Bytes of base images in the host\'s image cache.', (h) => h.usage().imageCacheBytes);
  gauge('minicloud_host_fdb_entries', 'FDB entries (l2pop) programmed on the host\'s VTEP.', ['host_id'], (g) => {
    for (const o of overlays()) g.set({ host_id: o.vswitch.hostId }, o.vswitch.fdbSize);
  });
  perHost('minicloud_host_model_time_seconds', 'Clock time (simulated, s since the epoch) of the latest model tick: the instant every minicloud_instance_* and host model value refers to.', (h) => h.modelSnapshot().atMs / 1000);
  perHost('minicloud_host_cpu_demand_mhz', 'Sum of the VMs\' CPU demand (workload models), MHz.', (h) => h.modelSnapshot().cpu.demandMhz);
  perHost('minicloud_host_cpu_usage_mhz', 'CPU the VMs ran after the share scheduler, MHz.', (h) => h.modelSnapshot().cpu.usageMhz);
  perHost('minicloud_host_cpu_capacity_mhz', 'Host CPU capacity: physical cores x core MHz.', (h) => h.modelSnapshot().cpu.capacityMhz);
  const memKinds = ['granted', 'active', 'shared', 'ballooned', 'compressed', 'swapped', 'consumed', 'free', 'shared_saved'] as const;
  gauge('minicloud_host_memory_mb', 'Host memory by kind (ESXi reclamation model), MiB.', kinds, (g) => {
    for (const h of hosts) {
      const m = h.modelSnapshot().memory;
      const v = { granted: m.grantedMb, active: m.activeMb, shared: m.sharedMb, ballooned: m.balloonedMb, compressed: m.compressedMb,
        swapped: m.swappedMb, consumed: m.consumedMb, free: m.freeMb, shared_saved: m.sharedSavedMb };
      for (const k of memKinds) g.set({ host_id: h.hostId, kind: k }, v[k]);
    }
  });
  gauge('minicloud_host_memory_state', 'ESXi free-memory state: 1 for the current one (high, soft, hard, low).', ['host_id', 'state'], (g) => {
    for (const h of hosts) for (const st of ['high', 'soft', 'hard', 'low']) g.set({ host_id: h.hostId, state: st }, h.modelSnapshot().memory.state === st ? 1 : 0);
  });

  // Per-instance series: at most maxInstancesPerHost VMs per host (in the order they booted), to bound
  // label cardinality: series = hosts x min(VMs, cap) x (12 + 4 x vNICs).
  const each = (fn: (h: SimulatedHost, vm: VmModelSnapshot) => void) => {
    for (const h of hosts) {
      let n = 0;
      for (const vm of h.modelSnapshot().vms.values()) {
        if (n++ >= maxInstancesPerHost) break;
        fn(h, vm);
      }
    }
  };
  const inst = ['host_id', 'instance_id'];
  const perVm = (name: string, help: string, value: (vm: VmModelSnapshot) => number) =>
    gauge(name, help, inst, (g) => each((h, vm) => g.set({ host_id: h.hostId, instance_id: vm.instanceId }, value(vm))));
  perVm('minicloud_instance_cpu_utilization_ratio', 'VM CPU usage / (vCPUs x core MHz), 0..1, at minicloud_host_model_time_seconds; capped per host.', (vm) => vm.cpuUtilizationRatio);
  perVm('minicloud_instance_cpu_demand_ratio', 'VM CPU demand from its workload model (0..1 of its vCPUs).', (vm) => vm.cpuDemandRatio);
  perVm('minicloud_instance_cpu_usage_mhz', 'MHz the VM ran.', (vm) => vm.cpu.usageMhz);
  perVm('minicloud_instance_cpu_ready_ratio', 'Share of the VM\'s demand that waited for a pCPU (vSphere %RDY incl. limit).', (vm) => vm.cpu.readyRatio);
  perVm('minicloud_instance_cpu_steal_ratio', 'vCPU time the guest sees stolen (/proc/stat steal), 0..1.', (vm) => vm.cpu.stealRatio);
  perVm('minicloud_instance_cpu_ready_seconds', 'Cumulative vCPU-seconds of CPU ready time (simulated).', (vm) => vm.cpuReadySecondsTotal);
  perVm('minicloud_instance_memory_dirty_rate_mb_per_second', 'Memory dirty-page rate from the workload (drives live-migration pre-copy).', (vm) => vm.dirtyRateMbPerSecond);
  gauge('minicloud_instance_memory_mb', 'VM memory by kind: granted, active, shared, ballooned, compressed, swapped, consumed (MiB).', [...inst, 'kind'], (g) =>
    each((h, vm) => {
      const m = vm.memory;
      const v = { granted: m.grantedMb, active: m.activeMb, shared: m.sharedMb, ballooned: m.balloonedMb, compressed: m.compressedMb, swapped: m.swappedMb, consumed: m.consumedMb };
      for (const [k, x] of Object.entries(v)) g.set({ host_id: h.hostId, instance_id: vm.instanceId, kind: k }, x);
    }),
  );
  gauge('minicloud_instance_disk_bytes', 'VM root disk: virtual size, allocated in its active QCOW2 overlay, allocated in all its overlays (chain).', [...inst, 'kind'], (g) =>
    each((h, vm) => {
      const l = { host_id: h.hostId, instance_id: vm.instanceId };
      g.set({ ...l, kind: 'virtual' }, vm.disk.virtualBytes);
      g.set({ ...l, kind: 'allocated' }, vm.disk.allocatedBytes);
      g.set({ ...l, kind: 'chain_allocated' }, vm.disk.chainAllocatedBytes);
    }),
  );
  gauge('minicloud_instance_disk_io', 'Cumulative disk I/O served (after IOPS/bandwidth token buckets): ops and bytes by op.', [...inst, 'op', 'unit'], (g) =>
    each((h, vm) => {
      const l = { host_id: h.hostId, instance_id: vm.instanceId };
      g.set({ ...l, op: 'read', unit: 'ops' }, vm.disk.readOpsTotal);
      g.set({ ...l, op: 'write', unit: 'ops' }, vm.disk.writeOpsTotal);
      g.set({ ...l, op: 'read', unit: 'bytes' }, vm.disk.readBytesTotal);
      g.set({ ...l, op: 'write', unit: 'bytes' }, vm.disk.writeBytesTotal);
    }),
  );
  gauge('minicloud_instance_vnic_traffic', 'Cumulative vNIC traffic from the workload, by port, direction (rx/tx) and unit (bytes/packets).', [...inst, 'port_id', 'direction', 'unit'], (g) =>
    each((h, vm) => {
      for (const n of vm.vnics) {
        const l = { host_id: h.hostId, instance_id: vm.instanceId, port_id: n.portId };
        g.set({ ...l, direction: 'rx', unit: 'bytes' }, n.rxBytes);
        g.set({ ...l, direction: 'tx', unit: 'bytes' }, n.txBytes);
        g.set({ ...l, direction: 'rx', unit: 'packets' }, n.rxPackets);
        g.set({ ...l, direction: 'tx', unit: 'packets' }, n.txPackets);
      }
    }),
  );
  return new Histogram({
    name: 'minicloud_agent_spawn_seconds',
    help: 'Spawn duration (image fetch + overlay + guest boot), seconds of simulated time.',
    labelNames: ['host_id'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
}

/**
 * Metrics of the model tick itself: wall-clock seconds per tick and per simulated VM per tick.
 * @returns the callback the ticker calls after each tick
 */
export function registerModelTickMetrics(registry: Registry): (wallSeconds: number, vms: number) => void {
  const tick = new Histogram({
    name: 'minicloud_agent_model_tick_seconds',
    help: 'Wall-clock seconds of one model tick over every host of the rack.',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const vms = new Gauge({ name: 'minicloud_agent_model_vms', help: 'VMs advanced by the latest model tick.', registers: [registry] });
  return (s, n) => {
    tick.observe(s);
    vms.set(n);
  };
}
