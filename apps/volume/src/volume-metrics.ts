import { freeCapacityGb } from '@minicloud/domain-volume';
import { Gauge, type Registry } from '@minicloud/platform-metrics';
import type { VolumeManager } from './volume-manager';

/**
 * Registers, read from Redis at scrape time:
 * minicloud_volume_pool_capacity_gb{pool, kind="total"|"provisioned"|"free"} (free is virtual free for thin pools)
 * and minicloud_volume_volumes{status}.
 */
export function registerVolumeMetrics(registry: Registry, mgr: VolumeManager): void {
  new Gauge({
    name: 'minicloud_volume_pool_capacity_gb',
    help: 'Storage pool capacity in GB: total, provisioned (volumes + snapshots), free (virtual for thin pools).',
    labelNames: ['pool', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await mgr.listPools()) {
        this.set({ pool: p.name, kind: 'total' }, p.totalCapacityGb);
        this.set({ pool: p.name, kind: 'provisioned' }, p.provisionedCapacityGb);
        this.set({ pool: p.name, kind: 'free' }, freeCapacityGb(p));
      }
    },
  });
  new Gauge({
    name: 'minicloud_volume_volumes',
    help: 'Volumes by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, n] of await mgr.countByStatus()) this.set({ status }, n);
    },
  });
}
