import type { compute } from '@minicloud/proto';
import type { ServiceHandlers } from '@minicloud/platform-grpc';
import type { ApiDeps } from './api-deps';
import { hostToProto } from './proto-mapping';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/**
 * Host handlers (admin by the policy table): list/get with claims, updateHost for enable/disable and
 * maintenance (disabled + state maintenance, so HA ignores the host; draining it by live migration,
 * two at a time, in the background).
 */
export function hostHandlers(d: Pick<ApiDeps, 'hosts' | 'allocations' | 'migrations'>): Pick<Handlers, 'listHosts' | 'getHost' | 'updateHost'> {
  return {
    async listHosts() {
      const hosts = await d.hosts.list();
      return { hosts: await Promise.all(hosts.map(async (h) => hostToProto(h, await d.allocations.get(h.hostId)))) };
    },
    async getHost(req) {
      const h = await d.hosts.get(req.hostId);
      return { host: hostToProto(h, await d.allocations.get(h.hostId)) };
    },
    async updateHost(req) {
      let h = await d.hosts.get(req.hostId);
      if (req.enabled !== undefined) h = await d.hosts.setEnabled(req.hostId, req.enabled, req.disabledReason);
      // Maintenance: disabled + state maintenance (HA ignores the host), then drained by live migration.
      if (req.maintenance !== undefined) {
        h = await d.hosts.setEnabled(req.hostId, !req.maintenance, req.maintenance ? req.disabledReason || 'maintenance' : '');
        await d.hosts.setState(req.hostId, req.maintenance ? 'maintenance' : 'up');
        h = await d.hosts.get(req.hostId);
        // Drain: live-migrate ACTIVE instances off, two at a time, in the background.
        if (req.maintenance) void d.migrations.drainHost(req.hostId).catch(() => undefined);
      }
      return { host: hostToProto(h, await d.allocations.get(h.hostId)) };
    },
  };
}
