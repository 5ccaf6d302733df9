import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '@minicloud/domain-errors';
import type { volume } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { paginate } from '../http/pagination';
import { createBackupBody, restoreBackupBody } from './schemas';
import { cinderTime } from './views';

type Id = { Params: { project_id: string; id: string } };

function links(req: FastifyRequest, publicUrl: string | undefined, id: string) {
  const project = (req.params as { project_id: string }).project_id;
  const base = baseUrl(req, publicUrl);
  return [
    { href: `${base}/volume/v3/${project}/backups/${id}`, rel: 'self' },
    { href: `${base}/volume/${project}/backups/${id}`, rel: 'bookmark' },
  ];
}

/**
 * A backup as Cinder v3.0 shows it (`GET /backups/{id}`, `/backups/detail`): `size` is the volume's
 * size in GB, `object_count` the blocks stored, `container` the image holding them.
 */
function backupDetail(b: volume.Backup, all: volume.Backup[], l: unknown): Record<string, unknown> {
  return {
    id: b.id,
    name: b.name || null,
    description: null,
    status: b.status,
    availability_zone: 'nova',
    volume_id: b.volumeId,
    snapshot_id: null,
    size: b.volumeSizeGb,
    object_count: b.blockCount,
    container: b.imageId || null,
    created_at: cinderTime(b.createdAt),
    updated_at: null,
    data_timestamp: cinderTime(b.createdAt),
    fail_reason: null,
    is_incremental: b.incremental,
    has_dependent_backups: all.some((x) => x.parentBackupId === b.id),
    links: l,
  };
}

/**
 * Cinder v3.0 backups over the volume service's backups (chunked, stored as images of the image
 * service): create (202; `incremental` bases it on the volume's latest backup), list (summary) and
 * detail (filters volume_id, status, name; limit/marker), show, delete (202; refused while an
 * incremental depends on it), restore into a new volume (202). Restoring over an existing volume is
 * 501: the service restores into new volumes only.
 */
export async function backupRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const vols = deps.backends.volume;
  const all = async (req: FastifyRequest) => (await vols.listBackups({ volumeId: queryValue(req, 'volume_id') ?? '' }, callContext(req))).backups;
  const one = async (req: FastifyRequest<Id>) => {
    const list = await all(req);
    const b = list.find((x) => x.id === req.params.id);
    if (!b) throw new NotFoundError('backup', req.params.id);
    return { b, list };
  };
  const list = async (req: FastifyRequest, detail: boolean) => {
    const backups = await all(req);
    const status = queryValue(req, 'status');
    const name = queryValue(req, 'name');
    const kept = backups
      .filter((b) => (status === undefined || b.status === status) && (name === undefined || b.name === name))
      .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || b.id.localeCompare(a.id));
    const p = paginate(kept, (b) => b.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') }, 1000);
    return { backups: p.items.map((b) => (detail ? backupDetail(b, backups, links(req, deps.publicUrl, b.id)) : { id: b.id, name: b.name || null, links: links(req, deps.publicUrl, b.id) })) };
  };
  app.get('/backups', async (req) => list(req, false));
  app.get('/backups/detail', async (req) => list(req, true));
  app.get<Id>('/backups/:id', async (req) => {
    const { b, list: backups } = await one(req);
    return { backup: backupDetail(b, backups, links(req, deps.publicUrl, b.id)) };
  });

  type Create = { backup: { volume_id: string; name?: string | null; incremental?: boolean } };
  app.post<{ Body: Create }>('/backups', { schema: { body: createBackupBody } }, async (req, reply) => {
    const b = req.body.backup;
    const { backup } = await vols.createBackup({ volumeId: b.volume_id, name: b.name ?? '', incremental: b.incremental === true }, callContext(req));
    return reply.code(202).send({ backup: { id: backup!.id, name: backup!.name || null, links: links(req, deps.publicUrl, backup!.id) } });
  });

  app.delete<Id>('/backups/:id', async (req, reply) => {
    await one(req);
    await vols.deleteBackup({ backupId: req.params.id }, callContext(req));
    return reply.code(202).send();
  });

  type Restore = { restore: { volume_id?: string | null; name?: string | null } | null };
  app.post<Id & { Body: Restore }>('/backups/:id/restore', { schema: { body: restoreBackupBody } }, async (req, reply) => {
    const r = req.body.restore ?? {};
    await one(req);
    if (r.volume_id) throw new HttpError(501, 'Restoring a backup over an existing volume is not supported by this cloud: restore into a new volume (no volume_id).');
    const { volume: v } = await vols.restoreBackup({ backupId: req.params.id, name: r.name ?? '', volumeType: '' }, callContext(req));
    return reply.code(202).send({ restore: { backup_id: req.params.id, volume_id: v!.id, volume_name: v!.name } });
  });
}
