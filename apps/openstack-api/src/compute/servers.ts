import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute, network } from '@minicloud/proto';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { listAll } from '@minicloud/client';
import { paginate } from '../http/pagination';
import { createServerBody, type CreateServerBody } from './schemas';
import { serverDetail, serverSummary, type ComputeUrls } from './views';

/**
 * Nova's default for omitted `networks` (2.1): the project's own networks, else the shared ones
 * (external networks never); one -> it, none -> no NIC, several -> 409 as Nova answers.
 */
export function defaultNetworks(projectId: string, nets: readonly network.Network[]): compute.NetworkRequest[] {
  const usable = nets.filter((n) => !n.routerExternal);
  const own = usable.filter((n) => n.projectId === projectId && !n.shared);
  const candidates = own.length ? own : usable.filter((n) => n.shared);
  if (candidates.length > 1) throw new HttpError(409, 'Multiple possible networks found, use a Network ID to be more specific.');
  return candidates.map((n) => ({ networkId: n.id, portId: '', fixedIp: '' }));
}

/** A Nova count (integer or digit string, at least 1). */
function countOf(v: number | string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw invalidField(field, `'${v}' must be an integer of at least 1.`);
  return n;
}

/** user_data arrives base64-encoded (Nova checks it decodes); the controller keeps the decoded text. */
function decodeUserData(v: string | undefined): string {
  if (!v) return '';
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v)) throw invalidField('server.user_data', 'User data needs to be valid base 64.');
  return Buffer.from(v, 'base64').toString('utf8');
}

/** Scheduler hints as the controller takes them: string values, lists comma-joined. */
function hintsOf(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  return out;
}

/** Nova's list filters applied to the controller's list (name is a regular expression, as in Nova). */
function filterServers(servers: compute.Server[], req: FastifyRequest): compute.Server[] {
  const q = (k: string) => queryValue(req, k);
  let re: RegExp | undefined;
  const name = q('name');
  if (name !== undefined) {
    try {
      re = new RegExp(name);
    } catch {
      throw invalidField('name', `'${name}' is not a valid regular expression.`);
    }
  }
  const status = q('status')?.toUpperCase();
  const image = q('image');
  const flavor = q('flavor');
  const since = q('changes-since');
  let sinceMs: number | undefined;
  if (since !== undefined) {
    sinceMs = Date.parse(since);
    if (Number.isNaN(sinceMs)) throw invalidField('changes-since', `'${since}' is not a valid ISO 8601 date-time.`);
  }
  const ip = q('ip');
  return servers.filter(
    (s) =>
      (!re || re.test(s.name)) &&
      (!status || s.status === status) &&
      (!image || s.imageId === image) &&
      (!flavor || s.flavor?.id === flavor) &&
      (sinceMs === undefined || (s.updatedAt ?? s.createdAt ?? new Date(0)).getTime() >= sinceMs) &&
      (!ip || s.addresses.some((a) => a.ipAddress.includes(ip))),
  );
}

/**
 * Nova's servers (2.1): create (networks list or omitted, min/max_count, metadata, user_data,
 * key_name, availability_zone, scheduler hints), list and detail with Nova's common filters and
 * limit/marker, show and delete (actions: {@link actionRoutes}).
 */
export async function serverRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest) => ComputeUrls): Promise<void> {
  const c = deps.backends.compute;

  const listFiltered = async (req: FastifyRequest, ctx: CallContext) => {
    const allTenants = ['1', 'true', 'True', ''].includes(queryValue(req, 'all_tenants') ?? 'no');
    const servers = await listAll(async (pageToken) => {
      const res = await c.listServers(
        { allProjects: allTenants, hostId: queryValue(req, 'host') ?? '', reservationId: queryValue(req, 'reservation_id') ?? '', page: { pageSize: 1000, pageToken } },
        ctx,
      );
      return { items: res.servers, next: res.page?.nextPageToken ?? '' };
    });
    const project = queryValue(req, 'tenant_id') ?? queryValue(req, 'project_id');
    return filterServers(project ? servers.filter((s) => s.projectId === project) : servers, req);
  };
  const listed = async (req: FastifyRequest, view: (s: compute.Server, u: ComputeUrls) => Record<string, unknown>) => {
    const u = urls(req);
    const page = paginate(await listFiltered(req, callContext(req)), (s) => s.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') });
    const path = req.url.split('?')[0].endsWith('/detail') ? 'servers/detail' : 'servers';
    const next = page.nextMarker ? [{ rel: 'next', href: `${u.versioned}/${path}?limit=${page.items.length}&marker=${page.nextMarker}` }] : undefined;
    return { servers: page.items.map((s) => view(s, u)), ...(next ? { servers_links: next } : {}) };
  };

  app.get('/servers', async (req) => listed(req, serverSummary));
  app.get('/servers/detail', async (req) => listed(req, serverDetail));
  app.get<{ Params: { id: string } }>('/servers/:id', async (req) => ({ server: serverDetail((await c.getServer({ serverId: req.params.id }, callContext(req))).server!, urls(req)) }));

  app.post('/servers', { schema: { body: createServerBody } }, async (req, reply) => {
    const body = req.body as CreateServerBody;
    const s = body.server;
    const ctx = callContext(req);
    const minCount = countOf(s.min_count, 'server.min_count') ?? 1;
    const maxCount = countOf(s.max_count, 'server.max_count') ?? minCount;
    if (maxCount < minCount) throw invalidField('server.max_count', `min_count (${minCount}) must be <= max_count (${maxCount}).`);
    let networks: compute.NetworkRequest[];
    if (s.networks === undefined) {
      const me = (await deps.backends.identity.validateToken({}, ctx)).info!;
      networks = defaultNetworks(me.projectId, (await deps.backends.network.listNetworks({ page: { pageSize: 1000 } }, ctx)).networks);
    } else {
      networks = s.networks.map((n, i) => {
        if (!n.uuid && !n.port) throw invalidField(`server.networks[${i}]`, 'A network uuid or a port is required.');
        return { networkId: n.uuid ?? '', portId: n.port ?? '', fixedIp: n.fixed_ip ?? '' };
      });
    }
    const res = await c.createServer(
      {
        name: s.name,
        flavorRef: String(s.flavorRef),
        imageRef: s.imageRef ?? '',
        networks,
        minCount,
        maxCount,
        availabilityZone: s.availability_zone ?? '',
        metadata: s.metadata ?? {},
        schedulerHints: hintsOf(body['OS-SCH-HNT:scheduler_hints'] ?? body['os:scheduler_hints']),
        userData: decodeUserData(s.user_data),
        securityGroups: (s.security_groups ?? []).map((g) => g.name),
        keyName: s.key_name ?? '',
      },
      ctx,
    );
    // Nova: a multi-create that asks for it answers with the reservation id alone
    if (s.return_reservation_id) return reply.code(202).send({ reservation_id: res.reservationId });
    const first = res.servers[0];
    const u = urls(req);
    return reply
      .code(202)
      .header('location', `${u.versioned}/servers/${first.id}`)
      .send({
        server: {
          id: first.id,
          links: serverSummary(first, u).links,
          'OS-DCF:diskConfig': 'MANUAL',
          security_groups: (s.security_groups ?? [{ name: 'default' }]).map((g) => ({ name: g.name })),
        },
      });
  });

  app.delete<{ Params: { id: string } }>('/servers/:id', async (req, reply) => {
    await c.deleteServer({ serverId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });
}
