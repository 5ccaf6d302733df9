import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '@minicloud/domain-errors';
import type { volume } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { paginate } from '../http/pagination';
import { flag } from './query';
import { snapshotMetadataRoutes } from './metadata';
import { createSnapshotBody, createTypeBody, extraSpecsBody, oneExtraSpecBody, updateSnapshotBody, updateTypeBody } from './schemas';
import { snapshotSummary, snapshotView, volumeTypeCreatedView, volumeTypeView } from './views';
import { MinicloudError } from '@minicloud/domain-errors';

type Id = { Params: { project_id: string; id: string } };

/**
 * Cinder v3.0 snapshots: list (summary) and detail (filters volume_id, status, name; all_tenants for
 * admins; limit/marker with snapshots_links), create (202; `force` for an in-use volume; name,
 * description, metadata), show, update of name and description, delete (202), and snapshot metadata
 * ({@link snapshotMetadataRoutes}).
 */
export async function snapshotRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const snaps = deps.backends.volume;
  const list = async (req: FastifyRequest, view: (s: volume.Snapshot) => Record<string, unknown>, path: string) => {
    const ctx = callContext(req);
    const { snapshots } = await snaps.listSnapshots({ volumeId: queryValue(req, 'volume_id') ?? '' }, ctx);
    const mine = flag(req, 'all_tenants') ? undefined : (await deps.backends.identity.validateToken({}, ctx)).info?.projectId;
    const status = queryValue(req, 'status');
    const name = queryValue(req, 'name') ?? queryValue(req, 'display_name');
    const kept = snapshots
      .filter((s) => (mine === undefined || s.projectId === mine) && (status === undefined || s.status === status) && (name === undefined || s.name === name))
      .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || b.id.localeCompare(a.id));
    const p = paginate(kept, (s) => s.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') }, 1000);
    const self = `${baseUrl(req, deps.publicUrl)}/volume/v3/${(req.params as { project_id: string }).project_id}/${path}`;
    return { snapshots: p.items.map(view), ...(p.nextMarker ? { snapshots_links: [{ rel: 'next', href: `${self}?limit=${p.items.length}&marker=${p.nextMarker}` }] } : {}) };
  };
  app.get('/snapshots', async (req) => list(req, snapshotSummary, 'snapshots'));
  app.get('/snapshots/detail', async (req) => list(req, snapshotView, 'snapshots/detail'));
  app.get<Id>('/snapshots/:id', async (req) => ({ snapshot: snapshotView((await snaps.getSnapshot({ snapshotId: req.params.id }, callContext(req))).snapshot!) }));

  type Create = { snapshot: { volume_id?: string | null; name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null; force?: boolean | string; metadata?: Record<string, string> | null } };
  app.post<{ Body: Create }>('/snapshots', { schema: { body: createSnapshotBody } }, async (req, reply) => {
    const s = req.body.snapshot;
    // Cinder looks up a missing volume_id like any unknown one: 404
    if (!s.volume_id) throw new NotFoundError('volume', String(s.volume_id));
    const force = s.force === true || String(s.force).toLowerCase() === 'true';
    const { snapshot } = await snaps.createSnapshot(
      { volumeId: s.volume_id, name: s.name ?? s.display_name ?? '', description: s.description ?? s.display_description ?? '', metadata: s.metadata ?? {}, force },
      callContext(req),
    );
    return reply.code(202).send({ snapshot: snapshotSummary(snapshot!) });
  });

  type Update = { snapshot: { name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null } };
  app.put<Id & { Body: Update }>('/snapshots/:id', { schema: { body: updateSnapshotBody } }, async (req) => {
    const b = req.body.snapshot;
    const name = b.name !== undefined ? b.name : b.display_name;
    const description = b.description !== undefined ? b.description : b.display_description;
    const { snapshot } = await snaps.updateSnapshot(
      { snapshotId: req.params.id, name: name === undefined ? undefined : (name ?? ''), description: description === undefined ? undefined : (description ?? ''), setMetadata: {}, removeMetadata: [] },
      callContext(req),
    );
    return { snapshot: snapshotSummary(snapshot!) };
  });

  app.delete<Id>('/snapshots/:id', async (req, reply) => {
    await snaps.deleteSnapshot({ snapshotId: req.params.id }, callContext(req));
    return reply.code(202).send();
  });
  await snapshotMetadataRoutes(app, deps);
}

/**
 * Cinder v3.0 volume types: list, show (by id, or by name as cinderclient looks types up),
 * extra specs (all, or one key), and an admin's create (description and extra specs; answered
 * without qos_specs_id, as Cinder's create view), update of name and description, extra-spec
 * create/update (POST all, PUT one key) and delete, and type delete (202). A type volumes use keeps
 * its name and extra specs, and the default type cannot be deleted (400, as Cinder's "in use").
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
  app.post<{ Body: { volume_type: { name: string; description?: string | null; extra_specs?: Record<string, string> } } }>('/types', { schema: { body: createTypeBody } }, async (req) => {
    const t = req.body.volume_type;
    const { volumeType } = await types.createVolumeType({ name: t.name, extraSpecs: t.extra_specs ?? {}, description: t.description ?? '' }, callContext(req));
    return { volume_type: volumeTypeCreatedView(volumeType!) };
  });
  // Cinder answers a type in use (delete, extra-spec or name changes) and the default type's delete 400
  const asBadRequest = async <T>(call: Promise<T>): Promise<T> => {
    try {
      return await call;
    } catch (e) {
      if (e instanceof MinicloudError && e.code === 'FAILED_PRECONDITION') throw new HttpError(400, e.message);
      throw e;
    }
  };
  app.delete<Id>('/types/:id', async (req, reply) => {
    await asBadRequest(types.deleteVolumeType({ volumeTypeId: req.params.id }, callContext(req)));
    return reply.code(202).send();
  });
  type Update = { volume_type: { name?: string; description?: string | null; is_public?: boolean } };
  app.put<Id & { Body: Update }>('/types/:id', { schema: { body: updateTypeBody } }, async (req) => {
    const b = req.body.volume_type;
    const change = { volumeTypeId: req.params.id, name: b.name, description: b.description === undefined ? undefined : (b.description ?? ''), setExtraSpecs: {}, removeExtraSpecs: [] };
    const t = (await asBadRequest(types.updateVolumeType(change, callContext(req)))).volumeType!;
    // Cinder's update answer: the plain view, without the type-access field or the QoS specs id
    return { volume_type: { id: t.id, name: t.name, is_public: t.isPublic, description: t.description || null, extra_specs: t.extraSpecs } };
  });
  const setSpecs = (req: FastifyRequest<Id>, specs: Record<string, string>) =>
    asBadRequest(types.updateVolumeType({ volumeTypeId: req.params.id, setExtraSpecs: specs, removeExtraSpecs: [] }, callContext(req)));
  app.post<Id & { Body: { extra_specs: Record<string, string> } }>('/types/:id/extra_specs', { schema: { body: extraSpecsBody } }, async (req) => {
    await setSpecs(req, req.body.extra_specs);
    return { extra_specs: req.body.extra_specs };
  });
  app.put<Id & { Params: { key: string }; Body: Record<string, string> }>('/types/:id/extra_specs/:key', { schema: { body: oneExtraSpecBody } }, async (req) => {
    if (!(req.params.key in req.body)) throw new HttpError(400, 'Request body and URI mismatch');
    await setSpecs(req, req.body);
    return req.body;
  });
  app.delete<Id & { Params: { key: string } }>('/types/:id/extra_specs/:key', async (req, reply) => {
    await asBadRequest(types.updateVolumeType({ volumeTypeId: req.params.id, setExtraSpecs: {}, removeExtraSpecs: [req.params.key] }, callContext(req)));
    return reply.code(202).send();
  });
}
