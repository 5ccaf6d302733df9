import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute, identity } from '@minicloud/proto';
import { listAll } from '@minicloud/client';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { invalidField } from '../http/errors';
import { novaMicroTime } from './admin-views';
import { updateQuotaSetBody } from './extra-schemas';

/** Nova quota names -> identity's quota resources (the ones minicloud enforces). */
const ENFORCED: Record<string, string> = { instances: 'instances', cores: 'cores', ram: 'ram_mb', floating_ips: 'floating_ips' };

/**
 * Nova's defaults for the 2.1 quotas identity does not keep (nova/conf/quota.py): shown so
 * clients find every key. key_pairs is enforced per user by the controller at its KEY_PAIRS_QUOTA
 * (Nova's default, 100, shown here); the others are not enforced. security_groups/rules are
 * Neutron's in minicloud.
 */
const UNENFORCED_DEFAULTS: Record<string, number> = {
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  fixed_ips: -1,
  security_groups: 10,
  security_group_rules: 20,
};

/**
 * Identity's default limits of the enforced quotas (apps/identity quota-math DEFAULT_QUOTA_LIMITS,
 * which ships Nova's defaults); identity has no RPC for its defaults.
 */
const ENFORCED_DEFAULTS: Record<string, number> = { instances: 10, cores: 20, ram: 51200, floating_ips: 50 };

/** A Nova quota_set (2.1 keys) from identity's limits. */
export function quotaSetView(q: identity.Quota | undefined, withId?: string): Record<string, unknown> {
  const limits = Object.fromEntries(Object.entries(ENFORCED).map(([nova, r]) => [nova, Number(q?.limits[r] ?? ENFORCED_DEFAULTS[nova])]));
  return { ...(withId !== undefined ? { id: withId } : {}), ...UNENFORCED_DEFAULTS, ...limits };
}

/** Nova's absolute limits (GET /limits) from a project's quota and usage. */
export function absoluteLimits(q: identity.Quota | undefined, serverGroupsUsed: number): Record<string, number> {
  const limit = (r: string, nova: string) => Number(q?.limits[r] ?? ENFORCED_DEFAULTS[nova]);
  const inUse = (r: string) => Number(q?.inUse[r] ?? 0);
  return {
    maxTotalInstances: limit('instances', 'instances'),
    maxTotalCores: limit('cores', 'cores'),
    maxTotalRAMSize: limit('ram_mb', 'ram'),
    maxTotalFloatingIps: limit('floating_ips', 'floating_ips'),
    maxServerMeta: UNENFORCED_DEFAULTS.metadata_items,
    maxImageMeta: UNENFORCED_DEFAULTS.metadata_items,
    maxPersonality: UNENFORCED_DEFAULTS.injected_files,
    maxPersonalitySize: UNENFORCED_DEFAULTS.injected_file_content_bytes,
    maxTotalKeypairs: UNENFORCED_DEFAULTS.key_pairs,
    maxSecurityGroups: UNENFORCED_DEFAULTS.security_groups,
    maxSecurityGroupRules: UNENFORCED_DEFAULTS.security_group_rules,
    maxServerGroups: UNENFORCED_DEFAULTS.server_groups,
    maxServerGroupMembers: UNENFORCED_DEFAULTS.server_group_members,
    totalInstancesUsed: inUse('instances'),
    totalCoresUsed: inUse('cores'),
    totalRAMUsed: inUse('ram_mb'),
    totalFloatingIpsUsed: inUse('floating_ips'),
    totalSecurityGroupsUsed: 0,
    totalServerGroupsUsed: serverGroupsUsed,
  };
}

/** A usage period's bound: Nova's `%Y-%m-%dT%H:%M:%S[.%f]` (UTC) or, absent, now. */
function periodBound(req: FastifyRequest, field: string, nowMs: number): number {
  const v = queryValue(req, field);
  if (v === undefined) return nowMs;
  const ms = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?$/.test(v) ? Date.parse(v.replace(' ', 'T').replace(/Z?$/, 'Z')) : NaN;
  if (Number.isNaN(ms)) throw invalidField(field, `Invalid ${field} time. The time format should be YYYY-MM-DDTHH:MM:SS.`);
  return ms;
}

/**
 * One project's usage over [startMs, stopMs] from its servers' records: each server counts from its
 * launch (else creation) to now; hours times the flavor's vcpus, ram and disk.
 */
export function tenantUsage(projectId: string, servers: readonly compute.Server[], startMs: number, stopMs: number, nowMs: number, detailed: boolean): Record<string, unknown> {
  const usages = servers.map((s) => {
    const began = (s.launchedAt ?? s.createdAt)?.getTime() ?? nowMs;
    const hours = Math.max(0, Math.min(stopMs, nowMs) - Math.max(startMs, began)) / 3_600_000;
    const f = s.flavor;
    return {
      instance_id: s.id,
      name: s.name,
      tenant_id: s.projectId,
      flavor: f?.name ?? '',
      vcpus: f?.vcpus ?? 0,
      memory_mb: f?.ramMb ?? 0,
      local_gb: f?.diskGb ?? 0,
      hours,
      started_at: novaMicroTime(new Date(began)),
      ended_at: null,
      state: s.status.toLowerCase(),
      uptime: Math.max(0, Math.round((nowMs - began) / 1000)),
    };
  });
  const sum = (f: (u: (typeof usages)[number]) => number) => usages.reduce((a, u) => a + f(u), 0);
  return {
    tenant_id: projectId,
    start: novaMicroTime(new Date(startMs)),
    stop: novaMicroTime(new Date(stopMs)),
    total_hours: sum((u) => u.hours),
    total_vcpus_usage: sum((u) => u.hours * u.vcpus),
    total_memory_mb_usage: sum((u) => u.hours * u.memory_mb),
    total_local_gb_usage: sum((u) => u.hours * u.local_gb),
    ...(detailed ? { server_usages: usages } : {}),
  };
}

/**
 * Nova's quota-facing APIs over identity's quotas: GET /limits (absolute limits and usage of the
 * caller's project, or `tenant_id`'s for admins), os-quota-sets (show, detail, defaults, update by
 * admins, and DELETE by admins: the enforced limits back to the defaults, 202) and os-simple-tenant-usage (from the servers' records; deleted servers are gone from
 * them and count no more).
 */
export async function quotaRoutes(app: FastifyInstance, deps: ApiDeps, nowMs: () => number = () => Date.now()): Promise<void> {
  const { identity: id, compute: c } = deps.backends;
  const callerProject = async (req: FastifyRequest) => (await id.validateToken({}, callContext(req))).info!.projectId;
  const quota = async (req: FastifyRequest, projectId: string) => (await id.getQuota({ projectId }, callContext(req))).quota;

  app.get('/limits', async (req) => {
    const projectId = queryValue(req, 'tenant_id') ?? (await callerProject(req));
    const [q, groups] = await Promise.all([quota(req, projectId), c.listServerGroups({}, callContext(req))]);
    return { limits: { rate: [], absolute: absoluteLimits(q, groups.serverGroups.filter((g) => g.projectId === projectId).length) } };
  });

  type P = { Params: { project: string } };
  app.get<P>('/os-quota-sets/:project', async (req) => ({ quota_set: quotaSetView(await quota(req, req.params.project), req.params.project) }));
  app.get<P>('/os-quota-sets/:project/defaults', async (req) => ({ quota_set: { id: req.params.project, ...UNENFORCED_DEFAULTS, ...ENFORCED_DEFAULTS } }));
  app.get<P>('/os-quota-sets/:project/detail', async (req) => {
    const q = await quota(req, req.params.project);
    const limits = quotaSetView(q);
    const detail = Object.fromEntries(
      Object.entries(limits).map(([k, limit]) => [k, { limit, in_use: k in ENFORCED ? Number(q?.inUse[ENFORCED[k]] ?? 0) : 0, reserved: k in ENFORCED ? Number(q?.reserved[ENFORCED[k]] ?? 0) : 0 }]),
    );
    return { quota_set: { id: req.params.project, ...detail } };
  });
  app.put<P>('/os-quota-sets/:project', { schema: { body: updateQuotaSetBody } }, async (req) => {
    const body = (req.body as { quota_set: Record<string, number | string | boolean> }).quota_set;
    const limits: Record<string, number> = {};
    for (const [k, v] of Object.entries(body)) if (k in ENFORCED) limits[ENFORCED[k]] = Number(v);
    const q = (await id.setQuota({ projectId: req.params.project, limits }, callContext(req))).quota;
    return { quota_set: quotaSetView(q) };
  });
  app.delete<P>('/os-quota-sets/:project', async (req, reply) => {
    await id.setQuota({ projectId: req.params.project, limits: {}, reset: Object.values(ENFORCED) }, callContext(req));
    return reply.code(202).send();
  });

  const usage = async (req: FastifyRequest, project: string | undefined) => {
    const now = nowMs();
    const start = periodBound(req, 'start', now);
    const stop = periodBound(req, 'end', now);
    if (stop < start) throw invalidField('end', 'Invalid start time. The start time cannot occur after the end time.');
    const servers = await listAll(async (pageToken) => {
      const res = await c.listServers({ allProjects: project === undefined, page: { pageSize: 1000, pageToken } }, callContext(req));
      return { items: res.servers, next: res.page?.nextPageToken ?? '' };
    });
    const byProject = new Map<string, compute.Server[]>();
    for (const s of servers) if (project === undefined || s.projectId === project) byProject.set(s.projectId, [...(byProject.get(s.projectId) ?? []), s]);
    const detailed = ['1', 'true', 'True'].includes(queryValue(req, 'detailed') ?? '');
    return { byProject, start, stop, now, detailed };
  };
  app.get('/os-simple-tenant-usage', async (req) => {
    const u = await usage(req, undefined);
    return { tenant_usages: [...u.byProject].map(([p, list]) => tenantUsage(p, list, u.start, u.stop, u.now, u.detailed)) };
  });
  app.get<P>('/os-simple-tenant-usage/:project', async (req) => {
    const u = await usage(req, req.params.project);
    return { tenant_usage: u.byProject.size ? tenantUsage(req.params.project, u.byProject.get(req.params.project)!, u.start, u.stop, u.now, true) : {} };
  });
}
