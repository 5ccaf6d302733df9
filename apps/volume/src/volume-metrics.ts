import { BLOCK_SIZE_BYTES, freeCapacityGb } from '@minicloud/domain-volume';
import { Counter, Gauge, type Registry } from '@minicloud/platform-metrics';
import type { VolumeCounters, VolumeManager } from './volume-manager';

/**
 * Registers, read from Redis at scrape time:
 * minicloud_volume_pool_capacity_gb{pool, kind="total"|"provisioned"|"free"} (free is virtual free for thin pools),
 * minicloud_volume_pool_up{pool} (1/0), minicloud_volume_volumes{status},
 * minicloud_volume_copies{state="ok"|"lost"}, minicloud_volume_replication{status="disabled"|"enabled"|"degraded"|"error"},
 * minicloud_volume_node_stored_bytes{storage_node} (distinct blocks x 64 KiB);
 * and the counters minicloud_volume_copies_lost_total{pool}, minicloud_volume_copies_repaired_total{pool}.
 * @returns the counters for the manager
 */
export function registerVolumeMetrics(registry: Registry, mgr: () => VolumeManager): VolumeCounters {
  new Gauge({
    name: 'minicloud_volume_pool_capacity_gb',
    help: 'Storage pool capacity in GB: total, provisioned (volumes + snapshots), free (virtual for thin pools).',
    labelNames: ['pool', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await mgr().listPools()) {
        this.set({ pool: p.name, kind: 'total' }, p.totalCapacityGb);
        this.set({ pool: p.name, kind: 'provisioned' }, p.provisionedCapacityGb);
        this.set({ pool: p.name, kind: 'free' }, freeCapacityGb(p));
      }
    },
  });
  new Gauge({
    name: 'minicloud_volume_pool_up',
    help: 'Whether a storage pool is up (1) or down (0).',
    labelNames: ['pool'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await mgr().listPools()) this.set({ pool: p.name }, p.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'minicloud_volume_volumes',
    help: 'Volumes by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, n] of await mgr().countByStatus()) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'minicloud_volume_copies',
    help: 'Volume data copies by state (ok, lost).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, n] of (await mgr().replicaCounts()).copies) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'minicloud_volume_replication',
    help: 'Volumes by replication status (disabled, enabled, degraded, error).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, n] of (await mgr().replicaCounts()).replication) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'minicloud_volume_node_stored_bytes',
    help: 'Bytes physically stored per simulated storage node (distinct blocks x block size).',
    labelNames: ['storage_node'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const node of mgr().storageNodes()) this.set({ storage_node: node }, (await mgr().blocks.nodeBlockCount(node)) * BLOCK_SIZE_BYTES);
    },
  });
  const lost = new Counter({ name: 'minicloud_volume_copies_lost_total', help: 'Volume copies lost with their pool.', labelNames: ['pool'] as const, registers: [registry] });
  const repaired = new Counter({ name: 'minicloud_volume_copies_repaired_total', help: 'Volume copies re-created on another storage node.', labelNames: ['pool'] as const, registers: [registry] });
  return { replicaLost: (pool) => lost.inc({ pool }), replicaRepaired: (pool) => repaired.inc({ pool }) };
}
