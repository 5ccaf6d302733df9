import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { identity } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { flag } from './query';

/** Cinder quota names and the identity quota resource behind each (others are not limited here: -1). */
const QUOTAS: [cinder: string, resource: string | undefined][] = [
  ['volumes', 'volumes'],
  ['gigabytes', 'gigabytes'],
  ['snapshots', undefined],
  ['backups', undefined],
  ['backup_gigabytes', undefined],
  ['per_volume_gigabytes', undefined],
  ['groups', undefined],
];

/**
 * Identity's default limits of the quotas it enforces for volumes (apps/identity quota-math
 * DEFAULT_QUOTA_LIMITS, which ships Cinder's defaults); identity has no RPC for its defaults.
 */
const DEFAULTS: Record<string, number> = { volumes: 10, gigabytes: 1000 };

const limitOf = (q: identity.Quota, r: string | undefined) => (r && r in q.limits ? Number(q.limits[r]) : -1);
const usedOf = (q: identity.Quota, r: string | undefined) => (r ? Number(q.inUse[r] ?? 0) : 0);
const reservedOf = (q: identity.Quota, r: string | undefined) => (r ? Number(q.reserved[r] ?? 0) : 0);

/** The Cinder quotas identity keeps, by Cinder name -> identity resource. */
const ENFORCED = Object.fromEntries(QUOTAS.filter(([, r]) => r !== undefined)) as Record<string, string>;

/**
 * `PUT /os-quota-sets/{project}`: integers >= -1 (or their strings, as Cinder takes them) for the
 * quotas identity enforces; a quota this cloud does not limit takes only -1 (what it is: unlimited,
 * so a client that writes back a quota set it read succeeds), any other value is refused by name
 * rather than dropped without a word.
 */
export const updateVolumeQuotaBody = {
  type: 'object',
  required: ['quota_set'],
  properties: {
    quota_set: {
      type: 'object',
      minProperties: 1,
      properties: Object.fromEntries(
        QUOTAS.map(([k, r]) => [k, r ? { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: 2147483647 } : { enum: [-1, '-1'] }]),
      ),
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/**
 * Cinder's limits (`GET /limits`: absolute limits and use of the caller's project, no rate limits)
 * and quota sets (`GET /os-quota-sets/{project}`, `?usage=true` for limit/in_use/reserved), read
 * from identity's quotas (volumes, gigabytes), and the defaults (`/os-quota-sets/{project}/defaults`);
 * what identity does not limit is -1 (unlimited). An admin updates a project's volumes and
 * gigabytes (`PUT`, answered without `id` as Cinder does) and returns them to the defaults
 * (`DELETE`, 200 with no body); identity's SetQuota decides who may.
 */
export async function quotaRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const quotaOf = async (req: FastifyRequest, projectId: string) => (await deps.backends.identity.getQuota({ projectId }, callContext(req))).quota!;
  app.get('/limits', async (req) => {
    const q = await quotaOf(req, '');
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: limitOf(q, 'volumes'),
          maxTotalVolumeGigabytes: limitOf(q, 'gigabytes'),
          maxTotalSnapshots: -1,
          maxTotalBackups: -1,
          maxTotalBackupGigabytes: -1,
          totalVolumesUsed: usedOf(q, 'volumes'),
          totalGigabytesUsed: usedOf(q, 'gigabytes'),
          totalSnapshotsUsed: 0,
          totalBackupsUsed: 0,
          totalBackupGigabytesUsed: 0,
        },
      },
    };
  });
  app.get<{ Params: { tenant: string } }>('/os-quota-sets/:tenant', async (req) => {
    const q = await quotaOf(req, req.params.tenant);
    const usage = flag(req, 'usage');
    const set = Object.fromEntries(QUOTAS.map(([k, r]) => [k, usage ? { limit: limitOf(q, r), in_use: usedOf(q, r), reserved: reservedOf(q, r), allocated: 0 } : limitOf(q, r)]));
    return { quota_set: { id: q.projectId || req.params.tenant, ...set } };
  });
  const setView = (q: identity.Quota) => Object.fromEntries(QUOTAS.map(([k, r]) => [k, limitOf(q, r)]));
  app.put<{ Params: { tenant: string }; Body: { quota_set: Record<string, number | string> } }>('/os-quota-sets/:tenant', { schema: { body: updateVolumeQuotaBody } }, async (req) => {
    const limits = Object.fromEntries(Object.entries(req.body.quota_set).filter(([k]) => k in ENFORCED).map(([k, v]) => [ENFORCED[k], Number(v)]));
    const { quota } = await deps.backends.identity.setQuota({ projectId: req.params.tenant, limits }, callContext(req));
    return { quota_set: setView(quota!) };
  });
  app.delete<{ Params: { tenant: string } }>('/os-quota-sets/:tenant', async (req, reply) => {
    await deps.backends.identity.setQuota({ projectId: req.params.tenant, limits: {}, reset: Object.values(ENFORCED) }, callContext(req));
    return reply.code(200).send();
  });
  app.get<{ Params: { tenant: string } }>('/os-quota-sets/:tenant/defaults', async (req) => {
    await deps.backends.identity.validateToken({}, callContext(req)); // a token is still required
    return { quota_set: { id: req.params.tenant, ...Object.fromEntries(QUOTAS.map(([k]) => [k, DEFAULTS[k] ?? -1])) } };
  });
}
