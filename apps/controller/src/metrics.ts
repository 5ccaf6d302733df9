import { usableCapacity, type HostState, type ResourceKind } from '@minicloud/domain-scheduler';
import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import type { HostRecord, HostStore } from './store/host-store';
import type { InstanceStore } from './store/instance-store';

/** The controller's metrics; gauges are computed from Redis at scrape time, so every replica reports the same. */
interface HostSnapshot {
  host: HostRecord;
  /** The scheduler's view of the host (capacity and claims), absent for a host registered since the read. */
  state?: HostState;
}

export interface ControllerMetrics {
  placementSeconds: Histogram<string>;
  noValidHost: Counter<string>;
  bootSeconds: Histogram<string>;
  /** First builds moved to another host after their host's agent refused them (Nova's reschedule). */
  buildReschedules: Counter<string>;
}

/**
 * Registers: minicloud_compute_instances{vm_state}, minicloud_compute_hosts{state},
 * minicloud_compute_host_vcpus / _ram_mb / _disk_gb {host_id, kind=capacity|allocated} (capacity =
 * (total - reserved) * the allocation ratio in force, aggregate overrides included: the scheduler's
 * HostState), minicloud_scheduler_placement_seconds,
 * minicloud_scheduler_no_valid_host_total, minicloud_compute_boot_seconds (create -> ACTIVE),
 * minicloud_cloud_power_watts and minicloud_cloud_energy_joules_total (sums over hosts).
 */
export function createControllerMetrics(
  registry: Registry,
  stores: { instances: InstanceStore; hosts: HostStore; hostStates: () => Promise<HostState[]> },
): ControllerMetrics {
  new Gauge({
    name: 'minicloud_compute_instances',
    help: 'Instances by vm_state.',
    labelNames: ['vm_state'],
    registers: [registry],
    // Counts kept in Redis by every instance write: a scrape costs one hash read, not a read of every record.
    async collect() {
      const counts = await stores.instances.countByVmState();
      this.reset();
      for (const [vmState, n] of Object.entries(counts)) this.set({ vm_state: vmState }, n);
    },
  });
  // One Redis read per scrape feeds every host gauge: prom-client collects the metrics of a registry
  // concurrently, so each gauge awaits the same snapshot in its own collect().
  let snapshot: { at: number; hosts: Promise<HostSnapshot[]> } | undefined;
  const hostSnapshot = () => {
    const now = Date.now();
    if (!snapshot || now - snapshot.at > 250) {
      snapshot = {
        at: now,
        hosts: (async () => {
          const [hosts, states] = await Promise.all([stores.hosts.list(), stores.hostStates()]);
          const byId = new Map(states.map((s) => [s.hostId, s]));
          return hosts.map((host) => ({ host, state: byId.get(host.hostId) }));
        })(),
      };
    }
    return snapshot.hosts;
  };
  new Gauge({
    name: 'minicloud_compute_hosts',
    help: 'Registered hosts by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { host } of await hostSnapshot()) this.inc({ state: host.state });
    },
  });
  const kinds: Record<'vcpus' | 'ram_mb' | 'disk_gb', ResourceKind> = { vcpus: 'vcpu', ram_mb: 'ram', disk_gb: 'disk' };
  const allocated = { vcpus: (s: HostState) => s.vcpusUsed, ram_mb: (s: HostState) => s.ramMbUsed, disk_gb: (s: HostState) => s.diskGbUsed };
  for (const kind of ['vcpus', 'ram_mb', 'disk_gb'] as const) {
    new Gauge({
      name: `minicloud_compute_host_${kind}`,
      help: `Host ${kind}: capacity ((total - reserved) * allocation ratio) and allocated (sum of claims).`,
      labelNames: ['host_id', 'kind'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const { host, state } of await hostSnapshot()) {
          if (!state) continue;
          this.set({ host_id: host.hostId, kind: 'capacity' }, usableCapacity(state, kinds[kind]));
          this.set({ host_id: host.hostId, kind: 'allocated' }, allocated[kind](state));
        }
      },
    });
  }
  // Energy for the whole cloud: the hosts' latest heartbeat figures (0 W in DPM standby).
  new Gauge({
    name: 'minicloud_cloud_power_watts',
    help: 'Wall power of every registered host (SPECpower model at its CPU utilisation; 0 in DPM standby), from their latest heartbeats.',
    registers: [registry],
    async collect() {
      let w = 0;
      for (const { host } of await hostSnapshot()) w += host.state === 'standby' || host.usage?.standby ? 0 : (host.usage?.powerWatts ?? 0);
      this.set(w);
    },
  });
  new Counter({
    name: 'minicloud_cloud_energy_joules_total',
    help: 'Energy drawn by every registered host since its agent started (sum of the hosts\' energy counters from their latest heartbeats), joules.',
    registers: [registry],
    async collect() {
      this.reset();
      let j = 0;
      for (const { host } of await hostSnapshot()) j += host.usage?.energyJoulesTotal ?? 0;
      this.inc(j);
    },
  });
  return {
    placementSeconds: new Histogram({
      name: 'minicloud_scheduler_placement_seconds',
      help: 'Time to schedule and claim one create request.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    noValidHost: new Counter({ name: 'minicloud_scheduler_no_valid_host_total', help: 'Create requests refused with NoValidHost.', registers: [registry] }),
    buildReschedules: new Counter({ name: 'minicloud_scheduler_build_reschedules_total', help: 'First builds rescheduled on another host after their host refused the spawn.', registers: [registry] }),
    bootSeconds: new Histogram({
      name: 'minicloud_compute_boot_seconds',
      help: 'Time from create to ACTIVE.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  };
}
