import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '@minicloud/domain-errors';
import type { volume } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { paginate } from '../http/pagination';
import { flag } from './query';
import { createSnapshotBody, createTypeBody } from './schemas';
import { snapshotView, volumeTypeView } from './views';

type Id = { Params: { project_id: string; id: string } };

/**
 * Cinder v3.0 snapshots: list and detail (filters volume_id, status, name; all_tenants for admins;
 * limit/marker with snapshots_links), create (202; `force` for an in-use volume), show, delete (202).
 */
export async function snapshotRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const snaps = deps.backends.volume;
  const list = async (req: FastifyRequest) => {
    const ctx = callContext(req);
    const { snapshots } = await snaps.listSnapshots({ volumeId: queryValue(req, 'volume_id') ?? '' }, ctx);
    const mine = flag(req, 'all_tenants') ? undefined : (await deps.backends.identity.validateToken({}, ctx)).info?.projectId;
    const status = queryValue(req, 'status');
    const name = queryValue(req, 'name');
    const kept = snapshots
      .filter((s) => (mine === undefined || s.projectId === mine) && (status === undefined || s.status === status) && (name === undefined || s.name === name))
      .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || b.id.localeCompare(a.id));
    const p = paginate(kept, (s) => s.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') }, 1000);
    return { snapshots: p.items.map(snapshotView), ...(p.nextMarker ? { snapshots_links: [{ rel: 'next', href: `${baseUrl(req, deps.publicUrl)}/volume/v3/${(req.params as { project_id: string }).project_id}/snapshots?limit=${p.items.length}&marker=${p.nextMarker}` }] } : {}) };
  };
  app.get('/snapshots', list);
  app.get('/snapshots/detail', list);
  app.get<Id>('/snapshots/:id', async (req) => ({ snapshot: snapshotView((await snaps.getSnapshot({ snapshotId: req.params.id }, callContext(req))).snapshot!) }));

  app.post<{ Body: { snapshot: { volume_id: string; name?: string | null; display_name?: string | null; force?: boolean | string } } }>(
    '/snapshots',
    { schema: { body: createSnapshotBody } },
    async (req, reply) => {
      const s = req.body.snapshot;
      const force = s.force === true || String(s.force).toLowerCase() === 'true';
      const { snapshot } = await snaps.createSnapshot({ volumeId: s.volume_id, name: s.name ?? s.display_name ?? '', force }, callContext(req));
      return reply.code(202).send({ snapshot: snapshotView(snapshot!) });
    },
  );

  app.put<Id>('/snapshots/:id', async (req) => {
    await snaps.getSnapshot({ snapshotId: req.params.id }, callContext(req));
    throw new HttpError(501, 'Updating a snapshot is not supported by this cloud.');
  });

  app.delete<Id>('/snapshots/:id', async (req, reply) => {
    await snaps.deleteSnapshot({ snapshotId: req.params.id }, callContext(req));
    return reply.code(202).send();
  });
}

/**
 * Cinder v3.0 volume types: list, show (by id, or by name as cinderclient looks types up),
 * extra specs (all, or one key), and an admin's create (extra specs included). The service keeps
 * types for good: delete and extra-spec changes are 501.
 */
export async function typeRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const types = deps.backends.volume;
  const typeOf = async (req: FastifyRequest<Id>): Promise<volume.VolumeType> => {
    const { volumeTypes } = await types.listVolumeTypes({}, callContext(req));
    const t = volumeTypes.find((x) => x.id === req.params.id) ?? volumeTypes.find((x) => x.name === req.params.id);
    if (!t) throw new NotFoundError('volume type', req.params.id);
    return t;
  };
  app.get('/types', async (req) => ({ volume_types: (await types.listVolumeTypes({}, callContext(req))).volumeTypes.map(volumeTypeView) }));
  app.get<Id>('/types/:id', async (req) => ({ volume_type: volumeTypeView(await typeOf(req)) }));
  app.get<Id>('/types/:id/extra_specs', async (req) => ({ extra_specs: (await typeOf(req)).extraSpecs }));
  app.get<Id & { Params: { key: string } }>('/types/:id/extra_specs/:key', async (req) => {
    const specs = (await typeOf(req)).extraSpecs;
    if (!(req.params.key in specs)) throw new NotFoundError('volume type extra spec', `${req.params.id}/${req.params.key}`);
    return { [req.params.key]: specs[req.params.key] };
  });
  app.post<{ Body: { volume_type: { name: string; extra_specs?: Record<string, string> } } }>('/types', { schema: { body: createTypeBody } }, async (req) => {
    const t = req.body.volume_type;
    return { volume_type: volumeTypeView((await types.createVolumeType({ name: t.name, extraSpecs: t.extra_specs ?? {} }, callContext(req))).volumeType!) };
  });
  const readOnlyType = async (req: FastifyRequest<Id>) => {
    await typeOf(req);
    throw new HttpError(501, 'Deleting or changing a volume type is not supported by this cloud.');
  };
  app.delete<Id>('/types/:id', readOnlyType);
  app.put<Id>('/types/:id', readOnlyType);
  app.post<Id>('/types/:id/extra_specs', readOnlyType);
}
