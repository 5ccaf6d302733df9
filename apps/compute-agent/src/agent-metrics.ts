import { Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import { logicalCpus } from '@minicloud/domain-hypervisor';
import type { HostAgent } from './host-agent';
import type { SimulatedHost } from './simulated-host';

/**
 * The agent's host metrics, computed at scrape time from the hosts. Per-instance series
 * (`minicloud_instance_cpu_utilization_ratio`) are exported for at most `maxInstancesPerHost` VMs per
 * host (AGENT_METRICS_MAX_INSTANCES, default 200) to bound label cardinality; beyond it they are dropped.
 * @returns the spawn-duration histogram (seconds of clock time), labelled host_id
 */
export function registerAgentMetrics(
  registry: Registry,
  hosts: readonly SimulatedHost[],
  agents: () => readonly HostAgent[],
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
  perHost('minicloud_host_power_watts', 'Host wall power from its SPECpower model at the current CPU utilisation.', (h) => h.usage().powerWatts);
  perHost('minicloud_host_image_cache_bytes', 'Bytes of base images in the host\'s image cache.', (h) => h.usage().imageCacheBytes);
  gauge('minicloud_host_fdb_entries', 'FDB entries (l2pop) programmed on the host\'s VTEP.', ['host_id'], (g) => {
    for (const a of agents()) g.set({ host_id: a.name.replace(/^host-agent:/, '') }, a.fdb.length);
  });
  gauge('minicloud_instance_cpu_utilization_ratio', 'VM CPU utilisation (0..1 of its vCPUs); capped per host.', ['host_id', 'instance_id'], (g) => {
    for (const h of hosts) {
      for (const r of h.runtimes().slice(0, maxInstancesPerHost)) g.set({ host_id: h.hostId, instance_id: r.instanceId }, r.cpuUtilizationRatio);
    }
  });
  return new Histogram({
    name: 'minicloud_agent_spawn_seconds',
    help: 'Spawn duration (image fetch + overlay + guest boot), seconds of simulated time.',
    labelNames: ['host_id'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
}
