import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import { resolveAggregate, resolveHost } from '@minicloud/client';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import {
  aggregateView,
  hostLiveness,
  hypervisorDetail,
  hypervisorStatistics,
  hypervisorSummary,
  migrationView,
  novaMicroTime,
  serverGroupView,
  serviceView,
} from './admin-views';
import { withContext } from './actions';
import { aggregateActionBody, createAggregateBody, createServerGroupBody, serviceUpdateBody, updateAggregateBody } from './extra-schemas';

type Id = { Params: { id: string } };

/**
 * The operator's side of Nova 2.1 over the controller's hosts: os-hypervisors (list, detail, show,
 * statistics, search, uptime as 501), os-services (list, enable, disable, disable-log-reason; a
 * service's integer id is its host's), os-availability-zone (list; detail with each zone's hosts),
 * os-aggregates (create, list, show, update, delete, add_host, remove_host, set_metadata; named by
 * their integer id), os-migrations (list with Nova's filters) and os-server-groups (create, list, show,
 * delete). Hypervisor ids are the controller's host ids (strings, which Nova's 2.1 schema allows),
 * and a host id is also the host's name (service host, hypervisor_hostname); a host
 * in a request body may be named by id or by a unique hostname. Admin-only calls are
 * refused by the gRPC policy, not here.
 */
export async function infrastructureRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const c = deps.backends.compute;
  const hosts = async (req: FastifyRequest) => (await c.listHosts({}, callContext(req))).hosts;
  const bound = (req: FastifyRequest) => withContext(c, callContext(req));

  app.get('/os-hypervisors', async (req) => ({ hypervisors: (await hosts(req)).map(hypervisorSummary) }));
  app.get('/os-hypervisors/detail', async (req) => ({ hypervisors: (await hosts(req)).map(hypervisorDetail) }));
  app.get('/os-hypervisors/statistics', async (req) => ({ hypervisor_statistics: hypervisorStatistics(await hosts(req)) }));
  app.get<{ Params: { pattern: string } }>('/os-hypervisors/:pattern/search', async (req) => {
    const found = (await hosts(req)).filter((h) => h.id.includes(req.params.pattern));
    if (!found.length) throw new HttpError(404, `No hypervisor matching '${req.params.pattern}' could be found.`);
    return { hypervisors: found.map(hypervisorSummary) };
  });
  // Nova answers 501 when the virt driver has no uptime; the simulated hosts have none (clients skip it)
  app.get<Id>('/os-hypervisors/:id/uptime', async (req) => {
    await c.getHost({ hostId: req.params.id }, callContext(req));
    throw new HttpError(501, 'Virt driver does not implement uptime function.');
  });
  app.get<Id>('/os-hypervisors/:id', async (req) => ({ hypervisor: hypervisorDetail((await c.getHost({ hostId: req.params.id }, callContext(req))).host!) }));

  app.get('/os-services', async (req) => {
    const host = queryValue(req, 'host');
    const binary = queryValue(req, 'binary');
    const list = (await hosts(req)).map(serviceView).filter((s) => (!host || s.host === host) && (!binary || s.binary === binary));
    return { services: list };
  });
  for (const op of ['enable', 'disable', 'disable-log-reason'] as const) {
    app.put(`/os-services/${op}`, { schema: { body: serviceUpdateBody } }, async (req) => {
      const b = req.body as { host: string; binary: string; disabled_reason?: string };
      if (b.binary !== 'nova-compute') throw new HttpError(404, `Service ${b.binary} on host ${b.host} could not be found.`);
      if (op === 'disable-log-reason' && !b.disabled_reason) throw new HttpError(400, 'Missing disabled reason field');
      const h = await resolveHost(bound(req), b.host);
      const enabled = op === 'enable';
      const updated = (await c.updateHost({ hostId: h.id, enabled, disabledReason: enabled ? '' : (b.disabled_reason ?? '') }, callContext(req))).host!;
      const status = updated.enabled ? 'enabled' : 'disabled';
      return { service: { host: h.id, binary: b.binary, status, ...(op === 'disable-log-reason' ? { disabled_reason: updated.disabledReason } : {}) } };
    });
  }

  app.get('/os-availability-zone', async (req) => ({
    availabilityZoneInfo: (await c.listAvailabilityZones({}, callContext(req))).availabilityZones.map((z) => ({ zoneName: z.name, zoneState: { available: z.available }, hosts: null })),
  }));
  app.get('/os-availability-zone/detail', async (req) => {
    const [zones, all] = await Promise.all([c.listAvailabilityZones({}, callContext(req)), hosts(req)]);
    return {
      availabilityZoneInfo: zones.availabilityZones.map((z) => ({
        zoneName: z.name,
        zoneState: { available: z.available },
        hosts: Object.fromEntries(
          all
            .filter((h) => z.hostIds.includes(h.id))
            .map((h) => [h.id, { 'nova-compute': { available: h.enabled && hostLiveness(h) === 'up', active: h.enabled, updated_at: novaMicroTime(h.lastHeartbeatAt) } }]),
        ),
      })),
    };
  });

  const aggregateBody = (a: compute.Aggregate) => ({ aggregate: aggregateView(a) });
  // Nova names an aggregate by its integer id; the controller's uuid and the name serve too
  const aggregate = async (req: FastifyRequest, ref: string) => {
    const all = (await c.listAggregates({}, callContext(req))).aggregates;
    return all.find((a) => String(a.numericId) === ref || a.id === ref) ?? (await resolveAggregate(bound(req), ref));
  };
  app.get('/os-aggregates', async (req) => ({ aggregates: (await c.listAggregates({}, callContext(req))).aggregates.map((a) => aggregateView(a)) }));
  app.post('/os-aggregates', { schema: { body: createAggregateBody } }, async (req) => {
    const { name, availability_zone } = (req.body as { aggregate: { name: string; availability_zone?: string | null } }).aggregate;
    return { aggregate: aggregateView((await c.createAggregate({ name, availabilityZone: availability_zone ?? '' }, callContext(req))).aggregate!, 'created') };
  });
  app.get<Id>('/os-aggregates/:id', async (req) => aggregateBody(await aggregate(req, req.params.id)));
  app.put<Id>('/os-aggregates/:id', { schema: { body: updateAggregateBody } }, async (req) => {
    const b = (req.body as { aggregate: { name?: string; availability_zone?: string | null } }).aggregate;
    const a = await aggregate(req, req.params.id);
    const availabilityZone = b.availability_zone === undefined ? undefined : (b.availability_zone ?? '');
    return aggregateBody((await c.updateAggregate({ aggregateId: a.id, name: b.name, availabilityZone }, callContext(req))).aggregate!);
  });
  app.delete<Id>('/os-aggregates/:id', async (req, reply) => {
    const a = await aggregate(req, req.params.id);
    await c.deleteAggregate({ aggregateId: a.id }, callContext(req));
    return reply.code(200).send();
  });
  app.post<Id>('/os-aggregates/:id/action', { schema: { body: aggregateActionBody } }, async (req) => {
    const b = req.body as { add_host?: { host: string }; remove_host?: { host: string }; set_metadata?: { metadata: Record<string, string | null> } };
    const ctx = callContext(req);
    const a = await aggregate(req, req.params.id);
    if (b.set_metadata) {
      const md = b.set_metadata.metadata;
      const set = Object.fromEntries(Object.entries(md).filter((e): e is [string, string] => e[1] !== null));
      const unset = Object.keys(md).filter((k) => md[k] === null);
      return aggregateBody((await c.setAggregateMetadata({ aggregateId: a.id, metadata: set, unset }, ctx)).aggregate!);
    }
    const host = await resolveHost(bound(req), (b.add_host ?? b.remove_host)!.host);
    const res = b.add_host ? await c.addAggregateHost({ aggregateId: a.id, hostId: host.id }, ctx) : await c.removeAggregateHost({ aggregateId: a.id, hostId: host.id }, ctx);
    return aggregateBody(res.aggregate!);
  });

  app.get('/os-migrations', async (req) => {
    const hostId = queryValue(req, 'host') ?? queryValue(req, 'source_compute') ?? '';
    const list = (await c.listMigrations({ serverId: queryValue(req, 'instance_uuid') ?? '', hostId }, callContext(req))).migrations;
    const status = queryValue(req, 'status');
    const type = queryValue(req, 'migration_type');
    return {
      migrations: list.filter((m) => (!status || m.status === status) && (!type || m.migrationType === type)).map(migrationView),
    };
  });

  app.get('/os-server-groups', async (req) => ({ server_groups: (await c.listServerGroups({}, callContext(req))).serverGroups.map(serverGroupView) }));
  app.post('/os-server-groups', { schema: { body: createServerGroupBody } }, async (req) => {
    const g = (req.body as { server_group: { name: string; policies: string[] } }).server_group;
    return { server_group: serverGroupView((await c.createServerGroup({ name: g.name, policy: g.policies[0], maxServerPerHost: 0 }, callContext(req))).serverGroup!) };
  });
  app.get<Id>('/os-server-groups/:id', async (req) => ({ server_group: serverGroupView((await c.getServerGroup({ serverGroupId: req.params.id }, callContext(req))).serverGroup!) }));
  app.delete<Id>('/os-server-groups/:id', async (req, reply) => {
    await c.deleteServerGroup({ serverGroupId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });
}
