import type { FastifyInstance } from 'fastify';
import type { identity } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';

/**
 * Neutron's quota names and the identity quota resource behind each; the network service refuses a
 * create over the limit of network, subnet, port, security_group and security_group_rule, and
 * counts the others' use.
 */
const QUOTAS: [neutron: string, resource: string][] = [
  ['network', 'networks'],
  ['subnet', 'subnets'],
  ['port', 'ports'],
  ['router', 'routers'],
  ['floatingip', 'floating_ips'],
  ['security_group', 'security_groups'],
  ['security_group_rule', 'security_group_rules'],
];

/**
 * Neutron's default quotas (neutron's [quotas] options), which identity's quota defaults ship too
 * (apps/identity quota-math DEFAULT_QUOTA_LIMITS); identity has no RPC for its defaults.
 */
const DEFAULTS: Record<string, number> = { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 };

const quotaValue = { type: 'integer', minimum: -1, maximum: 2147483647 } as const;

/** PUT /quotas/{project_id}: any of Neutron's quota names, each -1 (unlimited) or a count. */
export const updateQuotaBody = {
  type: 'object',
  required: ['quota'],
  properties: { quota: { type: 'object', properties: Object.fromEntries(QUOTAS.map(([n]) => [n, quotaValue])), additionalProperties: false } },
  additionalProperties: false,
} as const;

const limitsOf = (q: identity.Quota) => Object.fromEntries(QUOTAS.map(([n, r]) => [n, r in q.limits ? Number(q.limits[r]) : -1]));

/**
 * Neutron's quotas extension under /v2.0 (`quotas`, `quota_details`): the limits live in identity
 * (GetQuota/SetQuota, admin to change them), the use is the network service's count
 * (GetQuotaUsage). `GET /quotas` lists the projects whose limits differ from the defaults (admin);
 * `DELETE` puts a project back on the defaults.
 */
export function quotaRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const id = deps.backends.identity;
  api.get('/quotas', async (req) => {
    const ctx = callContext(req);
    const projects = (await id.listProjects({ page: { pageSize: 1000, pageToken: '' } }, ctx)).projects;
    const quotas = [];
    for (const p of projects) {
      const limits = limitsOf((await id.getQuota({ projectId: p.id }, ctx)).quota!);
      if (QUOTAS.some(([n]) => limits[n] !== DEFAULTS[n])) quotas.push({ ...limits, project_id: p.id, tenant_id: p.id });
    }
    return { quotas };
  });
  api.get<{ Params: { project: string } }>('/quotas/:project/default', async (req) => {
    await id.validateToken({}, callContext(req)); // a token is still required
    return { quota: { ...DEFAULTS } };
  });
  api.get<{ Params: { project: string } }>('/quotas/:project/details', async (req) => {
    const ctx = callContext(req);
    const [q, usage] = await Promise.all([id.getQuota({ projectId: req.params.project }, ctx), deps.backends.network.getQuotaUsage({ projectId: req.params.project }, ctx)]);
    const limits = limitsOf(q.quota!);
    return { quota: Object.fromEntries(QUOTAS.map(([n, r]) => [n, { limit: limits[n], used: Number(usage.inUse[r] ?? 0), reserved: 0 }])) };
  });
  api.get<{ Params: { project: string } }>('/quotas/:project', async (req) => ({ quota: limitsOf((await id.getQuota({ projectId: req.params.project }, callContext(req))).quota!) }));
  api.put<{ Params: { project: string }; Body: { quota: Record<string, number> } }>('/quotas/:project', { schema: { body: updateQuotaBody } }, async (req) => {
    const limits = Object.fromEntries(QUOTAS.filter(([n]) => n in req.body.quota).map(([n, r]) => [r, req.body.quota[n]!]));
    return { quota: limitsOf((await id.setQuota({ projectId: req.params.project, limits }, callContext(req))).quota!) };
  });
  api.delete<{ Params: { project: string } }>('/quotas/:project', async (req, reply) => {
    await id.setQuota({ projectId: req.params.project, limits: Object.fromEntries(QUOTAS.map(([n, r]) => [r, DEFAULTS[n]!])) }, callContext(req));
    return reply.code(204).send();
  });
}
