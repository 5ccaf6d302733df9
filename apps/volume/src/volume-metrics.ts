import { BLOCK_SIZE_BYTES, freeCapacityGb } from '@minicloud/domain-volume';
import { Counter, Gauge, type Registry } from '@minicloud/platform-metrics';
import type { BlockStore } from './block-store';
import type { Pools } from './pools';
import type { Replication, VolumeCounters } from './replication';
import type { Volumes } from './volumes';

/** What the scrape-time gauges read. */
export interface VolumeMetricsSource {
  pools: Pick<Pools, 'list' | 'storageNodes'>;
  volumes: Pick<Volumes, 'countByStatus'>;
  replication: Pick<Replication, 'replicaCounts'>;
  blocks: Pick<BlockStore, 'nodeBlockCount'>;
}

/** A gauge whose every series is read at scrape time: `read` gives (label value, value) pairs. */
function scrapedGauge(registry: Registry, name: string, help: string, label: string, read: () => Promise<Iterable<[string, number]>>): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [l, n] of await read()) this.set({ [label]: l }, n);
    },
  });
}

/**
 * The counters minicloud_volume_copies_lost_total{pool} and minicloud_volume_copies_repaired_total{pool}.
 * @returns them for the replication module
 */
export function registerVolumeCounters(registry: Registry): VolumeCounters {
  const lost = new Counter({ name: 'minicloud_volume_copies_lost_total', help: 'Volume copies lost with their pool.', labelNames: ['pool'] as const, registers: [registry] });
  const repaired = new Counter({ name: 'minicloud_volume_copies_repaired_total', help: 'Volume copies re-created on another storage node.', labelNames: ['pool'] as const, registers: [registry] });
  return { replicaLost: (pool) => lost.inc({ pool }), replicaRepaired: (pool) => repaired.inc({ pool }) };
}

/**
 * Registers, read from Redis at scrape time:
 * minicloud_volume_pool_capacity_gb{pool, kind="total"|"provisioned"|"free"} (free is virtual free for thin pools),
 * minicloud_volume_pool_up{pool} (1/0), minicloud_volume_volumes{status},
 * minicloud_volume_copies{state="ok"|"lost"}, minicloud_volume_replication{status="disabled"|"enabled"|"degraded"|"error"},
 * minicloud_volume_node_stored_bytes{storage_node} (distinct blocks x 64 KiB).
 */
export function registerVolumeGauges(registry: Registry, s: VolumeMetricsSource): void {
  new Gauge({
    name: 'minicloud_volume_pool_capacity_gb',
    help: 'Storage pool capacity in GB: total, provisioned (volumes + snapshots), free (virtual for thin pools).',
    labelNames: ['pool', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await s.pools.list()) {
        this.set({ pool: p.name, kind: 'total' }, p.totalCapacityGb);
        this.set({ pool: p.name, kind: 'provisioned' }, p.provisionedCapacityGb);
        this.set({ pool: p.name, kind: 'free' }, freeCapacityGb(p));
      }
    },
  });
  scrapedGauge(registry, 'minicloud_volume_pool_up', 'Whether a storage pool is up (1) or down (0).', 'pool', async () => (await s.pools.list()).map((p) => [p.name, p.up ? 1 : 0]));
  scrapedGauge(registry, 'minicloud_volume_volumes', 'Volumes by status.', 'status', () => s.volumes.countByStatus());
  scrapedGauge(registry, 'minicloud_volume_copies', 'Volume data copies by state (ok, lost).', 'state', async () => (await s.replication.replicaCounts()).copies);
  scrapedGauge(registry, 'minicloud_volume_replication', 'Volumes by replication status (disabled, enabled, degraded, error).', 'status', async () => (await s.replication.replicaCounts()).replication);
  scrapedGauge(registry, 'minicloud_volume_node_stored_bytes', 'Bytes physically stored per simulated storage node (distinct blocks x block size).', 'storage_node', async () =>
    Promise.all(s.pools.storageNodes().map(async (node): Promise<[string, number]> => [node, (await s.blocks.nodeBlockCount(node)) * BLOCK_SIZE_BYTES])),
  );
}
