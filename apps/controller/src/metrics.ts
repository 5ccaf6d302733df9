import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import type { AllocationStore } from './store/allocation-store';
import type { HostStore } from './store/host-store';
import type { InstanceStore } from './store/instance-store';

/** The controller's metrics; gauges are computed from Redis at scrape time, so every replica reports the same. */
export interface ControllerMetrics {
  placementSeconds: Histogram<string>;
  noValidHost: Counter<string>;
  bootSeconds: Histogram<string>;
}

/**
 * Registers: minicloud_compute_instances{vm_state}, minicloud_compute_hosts{state},
 * minicloud_compute_host_vcpus / _ram_mb / _disk_gb {host_id, kind=capacity|allocated} (capacity =
 * (total - reserved) * allocation_ratio), minicloud_scheduler_placement_seconds,
 * minicloud_scheduler_no_valid_host_total, minicloud_compute_boot_seconds (create -> ACTIVE).
 */
export function createControllerMetrics(registry: Registry, stores: { instances: InstanceStore; hosts: HostStore; allocations: AllocationStore }): ControllerMetrics {
  new Gauge({
    name: 'minicloud_compute_instances',
    help: 'Instances by vm_state.',
    labelNames: ['vm_state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await stores.instances.list()) this.inc({ vm_state: r.vmState });
    },
  });
  const hostGauges = (['vcpus', 'ram_mb', 'disk_gb'] as const).map(
    (kind) =>
      [
        kind,
        new Gauge({
          name: `minicloud_compute_host_${kind}`,
          help: `Host ${kind}: capacity ((total - reserved) * allocation ratio) and allocated (sum of claims).`,
          labelNames: ['host_id', 'kind'],
          registers: [registry],
        }),
      ] as const,
  );
  new Gauge({
    name: 'minicloud_compute_hosts',
    help: 'Registered hosts by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [, g] of hostGauges) g.reset();
      for (const h of await stores.hosts.list()) {
        this.inc({ state: h.state });
        const a = await stores.allocations.get(h.hostId);
        const set = (kind: string, capacity: number, allocated: number) => {
          const g = hostGauges.find(([k]) => k === kind)![1];
          g.set({ host_id: h.hostId, kind: 'capacity' }, capacity);
          g.set({ host_id: h.hostId, kind: 'allocated' }, allocated);
        };
        set('vcpus', h.vcpusTotal * h.cpuAllocationRatio, a.vcpus);
        set('ram_mb', (h.ramMbTotal - h.ramMbReserved) * h.ramAllocationRatio, a.ramMb);
        set('disk_gb', h.diskGbTotal * h.diskAllocationRatio, a.diskGb);
      }
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
    bootSeconds: new Histogram({
      name: 'minicloud_compute_boot_seconds',
      help: 'Time from create to ACTIVE.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  };
}
