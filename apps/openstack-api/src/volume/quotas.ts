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

/**
 * Cinder's limits (`GET /limits`: absolute limits and use of the caller's project, no rate limits)
 * and quota sets (`GET /os-quota-sets/{project}`, `?usage=true` for limit/in_use/reserved), read
 * from identity's quotas (volumes, gigabytes), and the defaults (`/os-quota-sets/{project}/defaults`);
 * what identity does not limit is -1 (unlimited).
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
  app.get<{ Params: { tenant: string } }>('/os-quota-sets/:tenant/defaults', async (req) => {
    await deps.backends.identity.validateToken({}, callContext(req)); // a token is still required
    return { quota_set: { id: req.params.tenant, ...Object.fromEntries(QUOTAS.map(([k]) => [k, DEFAULTS[k] ?? -1])) } };
  });
}
