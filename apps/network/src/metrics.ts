import { Gauge, type Registry } from '@minicloud/platform-metrics';
import type { Redis } from '@minicloud/platform-state';
import type { PortRecord } from './records';
import { readJsonMany } from './store/json';
import { keys } from './store/keys';

/**
 * The network service's gauges:
 * - minicloud_network_networks: networks that exist (read from Redis at scrape time);
 * - minicloud_network_ports{status}: ports by status DOWN/ACTIVE/BUILD (read at scrape time);
 * - minicloud_network_fdb_entries{host_id}: size of the FDB last computed for a host.
 * @returns the FDB observer to hand to L2pop
 */
export function registerNetworkMetrics(registry: Registry, redis: Redis): (hostId: string, entries: number) => void {
  new Gauge({
    name: 'minicloud_network_networks',
    help: 'Networks that exist.',
    registers: [registry],
    async collect() {
      this.set(await redis.scard(keys.networks()));
    },
  });
  new Gauge({
    name: 'minicloud_network_ports',
    help: 'Ports by status (DOWN: unbound, ACTIVE: bound to a host).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const ports = await readJsonMany<PortRecord>(redis, (await redis.smembers(keys.ports())).map(keys.port));
      const counts: Record<string, number> = { DOWN: 0, ACTIVE: 0, BUILD: 0 };
      for (const p of ports) counts[p.status] = (counts[p.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  const fdb = new Gauge({
    name: 'minicloud_network_fdb_entries',
    help: 'Entries of the FDB last computed for a host (flooding entries included).',
    labelNames: ['host_id'] as const,
    registers: [registry],
  });
  return (hostId, entries) => fdb.set({ host_id: hostId }, entries);
}
