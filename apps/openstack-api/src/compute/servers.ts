import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { listAll } from '@minicloud/client';
import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { paginate, type Page } from '../http/pagination';
import { adminPassOf } from './admin-password';
import { createServerBody, type BlockDeviceMappingV2, type CreateServerBody } from './schemas';
import { serverSecurityGroupNames, withFloatingAddresses } from './security-groups';
import { serverDetail, serverSummary, type ComputeUrls } from './views';

/** oslo's is_uuid_like: 32 hex digits, dashes anywhere (Nova checks networks[].uuid with it). */
function isUuidLike(v: string): boolean {
  return /^[0-9a-f]{32}$/i.test(v.replace(/-/g, '')) && /^[0-9a-f-]+$/i.test(v);
}

/** ISO 8601 date or date-time, as Nova's `changes-since` takes it (iso8601.parse_date); "2011/01/01" is not one. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

/**
 * A `changes-since` query value in epoch ms (undefined when absent).
 * @throws HttpError 400 naming `changes-since` when it is not an ISO 8601 date or date-time
 */
export function changesSinceMs(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  const ms = ISO_8601.test(since) ? Date.parse(since.replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) throw invalidField('changes-since', `'${since}' is not a valid ISO 8601 date-time.`);
  return ms;
}

/**
 * What Nova answers 400 for on create although the controller says NOT_FOUND: the request names a
 * flavor, image or network that does not exist (nova/api/openstack/compute/servers.py turns
 * FlavorNotFound, ImageNotFound and NetworkNotFound into HTTPBadRequest); a security group the
 * caller does not have is the controller's INVALID_ARGUMENT, answered in Nova's words.
 */
function createNotFoundAs400(e: unknown): never {
  if (e instanceof NotFoundError) {
    const id = e.resourceId ?? '';
    if (e.resourceType === 'network') throw new HttpError(400, `Network ${id} could not be found.`);
    if (e.resourceType === 'flavor') throw new HttpError(400, `Flavor ${id} could not be found.`);
    if (e.resourceType === 'image') throw new HttpError(400, `Can not find requested image: ${e.message}`);
  }
  // Nova's own words for a security group the create names but the caller does not have
  const group = e instanceof InvalidArgumentError ? /^invalid security_groups: (.*)$/s.exec(e.message) : null;
  if (group) throw new HttpError(400, group[1]);
  throw e;
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
  const sinceMs = changesSinceMs(q('changes-since'));
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

const NOVA_TRUE = new Set(['true', '1', 'on', 'yes']);

/**
 * One `block_device_mapping_v2` entry as the controller's BlockDeviceMapping: boot_index null or
 * absent is -1 (not bootable, Nova's None), a device name without /dev/ gets it (Nova takes `vdb` or
 * `/dev/vdb`), delete_on_termination in any of Nova's boolean spellings; destination_type absent is
 * left to the controller (volume). The controller checks the rest (sizes, sources, the root disk).
 */
export function toBlockDeviceMapping(b: BlockDeviceMappingV2): compute.BlockDeviceMapping {
  const bootIndex = b.boot_index === undefined || b.boot_index === null ? -1 : Number(b.boot_index);
  const del = typeof b.delete_on_termination === 'string' ? NOVA_TRUE.has(b.delete_on_termination.toLowerCase()) : !!b.delete_on_termination;
  const device = b.device_name ? (b.device_name.startsWith('/') ? b.device_name : `/dev/${b.device_name}`) : '';
  return {
    sourceType: b.source_type,
    destinationType: b.destination_type ?? '',
    uuid: b.uuid ?? '',
    volumeSizeGb: b.volume_size === undefined ? 0 : Number(b.volume_size),
    bootIndex,
    deleteOnTermination: del,
    deviceName: device,
  };
}

/** Nova's list filters the controller does not serve: a list with one of them is filtered and paged here. */
const LOCAL_FILTERS = ['name', 'status', 'image', 'flavor', 'changes-since', 'ip', 'tenant_id', 'project_id'] as const;

/** Nova's `limit` (at most its max_limit, 1000; absent: 1000). @throws HttpError 400 naming limit when not a non-negative integer */
function pageLimit(limit: string | undefined): number {
  if (limit === undefined) return 1000;
  if (!/^\d+$/.test(limit)) throw invalidField('limit', `'${limit}' is not a non-negative integer.`);
  return Math.min(Number(limit), 1000);
}

/**
 * Nova's servers (2.1): create (networks list or omitted, min/max_count, metadata, user_data,
 * key_name, availability_zone, scheduler hints, adminPass: the given one or a generated one, passed
 * to the guest and answered as Nova does with enable_instance_password on), list and detail with Nova's common filters and
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
  /**
   * Without a filter the controller does not serve itself (name, status, image, flavor,
   * changes-since, ip, tenant_id/project_id), the page comes from the controller as it is (limit and
   * marker passed through: one page read, not the whole list); otherwise the whole filtered list is
   * paged here.
   */
  const pageOf = async (req: FastifyRequest, ctx: CallContext): Promise<Page<compute.Server>> => {
    const limitQ = queryValue(req, 'limit');
    const marker = queryValue(req, 'marker');
    if (LOCAL_FILTERS.some((f) => queryValue(req, f) !== undefined)) return paginate(await listFiltered(req, ctx), (s) => s.id, { limit: limitQ, marker });
    const limit = pageLimit(limitQ);
    if (limit === 0) return { items: [] };
    const allTenants = ['1', 'true', 'True', ''].includes(queryValue(req, 'all_tenants') ?? 'no');
    const res = await c
      .listServers({ allProjects: allTenants, hostId: queryValue(req, 'host') ?? '', reservationId: queryValue(req, 'reservation_id') ?? '', marker: marker ?? '', page: { pageSize: limit } }, ctx)
      .catch((e: unknown) => {
        if (e instanceof InvalidArgumentError && e.field === 'marker') throw new HttpError(400, `marker [${marker}] not found`, 'HTTPBadRequest');
        throw e;
      });
    const items = res.servers;
    return { items, nextMarker: res.page?.nextPageToken && items.length === limit ? items[items.length - 1].id : undefined };
  };
  const listed = async (req: FastifyRequest, detail: boolean) => {
    const u = urls(req);
    const ctx = callContext(req);
    const page = await pageOf(req, ctx);
    const path = detail ? 'servers/detail' : 'servers';
    const next = page.nextMarker ? [{ rel: 'next', href: `${u.versioned}/${path}?limit=${page.items.length}&marker=${page.nextMarker}` }] : undefined;
    // The page's security groups in two network calls, not one per server.
    const groups = detail ? await serverSecurityGroupNames(deps.backends.network, ctx, page.items.map((s) => s.id)) : undefined;
    const items = detail ? await withFloatingAddresses(deps.backends.network, ctx, page.items) : page.items;
    const servers = items.map((s) => (groups ? serverDetail(s, u, groups.get(s.id) ?? []) : serverSummary(s, u)));
    return { servers, ...(next ? { servers_links: next } : {}) };
  };

  app.get('/servers', async (req) => listed(req, false));
  app.get('/servers/detail', async (req) => listed(req, true));
  app.get<{ Params: { id: string } }>('/servers/:id', async (req) => {
    const ctx = callContext(req);
    const found = (await c.getServer({ serverId: req.params.id }, ctx)).server!;
    const [groups, [server]] = await Promise.all([serverSecurityGroupNames(deps.backends.network, ctx, [found.id]), withFloatingAddresses(deps.backends.network, ctx, [found])]);
    return { server: serverDetail(server, urls(req), groups.get(server.id) ?? []) };
  });

  app.post('/servers', { schema: { body: createServerBody } }, async (req, reply) => {
    const body = req.body as CreateServerBody;
    const s = body.server;
    const ctx = callContext(req);
    const minCount = countOf(s.min_count, 'server.min_count') ?? 1;
    const maxCount = countOf(s.max_count, 'server.max_count') ?? minCount;
    if (maxCount < minCount) throw invalidField('server.max_count', `min_count (${minCount}) must be <= max_count (${maxCount}).`);
    let networks: compute.NetworkRequest[];
    // Networks omitted: the controller makes Nova 2.1's choice (the project's one network, or none).
    if (s.networks === undefined) networks = [];
    else {
      networks = s.networks.map((n, i) => {
        if (!n.uuid && !n.port) throw invalidField(`server.networks[${i}]`, 'A network uuid or a port is required.');
        if (n.uuid && !isUuidLike(n.uuid)) throw new HttpError(400, `Bad networks format: network uuid is not in proper format (${n.uuid})`);
        return { networkId: n.uuid ?? '', portId: n.port ?? '', fixedIp: n.fixed_ip ?? '' };
      });
    }
    const adminPass = adminPassOf(s);
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
        accessIpV4: s.accessIPv4 ?? '',
        accessIpV6: s.accessIPv6 ?? '',
        adminPass,
        blockDeviceMappings: (s.block_device_mapping_v2 ?? []).map(toBlockDeviceMapping),
      },
      ctx,
    ).catch(createNotFoundAs400);
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
          adminPass,
        },
      });
  });

  app.delete<{ Params: { id: string } }>('/servers/:id', async (req, reply) => {
    await c.deleteServer({ serverId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });
}
