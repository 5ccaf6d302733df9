import { InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { hostAvailabilityZone } from '@minicloud/domain-scheduler';
import { isCloudAdmin } from '@minicloud/platform-auth';
import type { CallContext } from '@minicloud/platform-grpc';
import type { compute } from '@minicloud/proto';
import type { AggregateStore } from '../store/aggregate-store';
import type { HostStore } from '../store/host-store';
import type { ServerGroupRecord, ServerGroupStore } from '../store/server-group-store';
import { aggregateToProto, serverGroupToProto } from './proto-mapping';

export interface TopologyDeps {
  aggregates: AggregateStore;
  serverGroups: ServerGroupStore;
  hosts: HostStore;
}

/** Nova's os-aggregates policy is admin-only (the shared policy table says member: enforce here too). */
function requireAdmin(ctx: CallContext): void {
  if (!ctx.auth) throw new UnauthenticatedError('missing bearer token');
  if (!isCloudAdmin(ctx.auth)) throw new PermissionDeniedError('host aggregates require the admin role');
}

/** A server group the caller may see (own project, or any for admin). @throws NotFoundError('server_group', id) */
export async function scopedServerGroup(d: Pick<TopologyDeps, 'serverGroups'>, id: string, ctx: CallContext): Promise<ServerGroupRecord> {
  if (!id) throw new InvalidArgumentError('server_group_id', 'is required');
  const g = await d.serverGroups.find(id);
  if (!g || (!isCloudAdmin(ctx.auth) && g.projectId !== ctx.auth?.projectId)) throw new NotFoundError('server_group', id);
  return g;
}

/**
 * Handlers of host aggregates (admin; Nova os-aggregates), availability zones (any reader; an AZ
 * comes from an aggregate's `availability_zone`, else the agent's profile, else `nova`) and server
 * groups (project-scoped; Nova os-server-groups).
 */
export function topologyHandlers(d: TopologyDeps) {
  return {
    async createAggregate(req: compute.CreateAggregateRequest, ctx: CallContext) {
      requireAdmin(ctx);
      return { aggregate: aggregateToProto(await d.aggregates.create(req.name, req.availabilityZone)) };
    },
    async listAggregates(_req: compute.ListAggregatesRequest, ctx: CallContext) {
      requireAdmin(ctx);
      return { aggregates: (await d.aggregates.list()).map(aggregateToProto) };
    },
    async deleteAggregate(req: compute.DeleteAggregateRequest, ctx: CallContext) {
      requireAdmin(ctx);
      await d.aggregates.delete(req.aggregateId);
      return {};
    },
    async updateAggregate(req: compute.UpdateAggregateRequest, ctx: CallContext) {
      requireAdmin(ctx);
      return { aggregate: aggregateToProto(await d.aggregates.rename(req.aggregateId, { name: req.name, availabilityZone: req.availabilityZone })) };
    },
    async addAggregateHost(req: compute.AddAggregateHostRequest, ctx: CallContext) {
      requireAdmin(ctx);
      await d.hosts.get(req.hostId);
      return { aggregate: aggregateToProto(await d.aggregates.addHost(req.aggregateId, req.hostId)) };
    },
    async removeAggregateHost(req: compute.RemoveAggregateHostRequest, ctx: CallContext) {
      requireAdmin(ctx);
      return { aggregate: aggregateToProto(await d.aggregates.removeHost(req.aggregateId, req.hostId)) };
    },
    async setAggregateMetadata(req: compute.SetAggregateMetadataRequest, ctx: CallContext) {
      requireAdmin(ctx);
      return { aggregate: aggregateToProto(await d.aggregates.setMetadata(req.aggregateId, req.metadata, req.unset)) };
    },
    async listAvailabilityZones() {
      const [hosts, aggregates] = await Promise.all([d.hosts.list(), d.aggregates.list()]);
      const byAz = new Map<string, { hostIds: string[]; available: boolean }>();
      for (const a of aggregates) if (a.availabilityZone && !byAz.has(a.availabilityZone)) byAz.set(a.availabilityZone, { hostIds: [], available: false });
      for (const h of hosts) {
        const az = hostAvailabilityZone(h.hostId, h.profile.availabilityZone, aggregates);
        const e = byAz.get(az) ?? { hostIds: [], available: false };
        e.hostIds.push(h.hostId);
        e.available ||= h.enabled && h.state === 'up';
        byAz.set(az, e);
      }
      return { availabilityZones: [...byAz].map(([name, e]) => ({ name, hostIds: e.hostIds, available: e.available })) };
    },

    async createServerGroup(req: compute.CreateServerGroupRequest, ctx: CallContext) {
      if (!ctx.auth) throw new UnauthenticatedError('missing bearer token');
      return { serverGroup: serverGroupToProto(await d.serverGroups.create(ctx.auth.projectId, req.name, req.policy, req.maxServerPerHost)) };
    },
    async getServerGroup(req: compute.GetServerGroupRequest, ctx: CallContext) {
      return { serverGroup: serverGroupToProto(await scopedServerGroup(d, req.serverGroupId, ctx)) };
    },
    async listServerGroups(_req: compute.ListServerGroupsRequest, ctx: CallContext) {
      if (!ctx.auth) throw new UnauthenticatedError('missing bearer token');
      return { serverGroups: (await d.serverGroups.list(ctx.auth.projectId)).map(serverGroupToProto) };
    },
    async deleteServerGroup(req: compute.DeleteServerGroupRequest, ctx: CallContext) {
      await d.serverGroups.delete(await scopedServerGroup(d, req.serverGroupId, ctx));
      return {};
    },
  };
}
