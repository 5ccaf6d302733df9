import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '@minicloud/domain-errors';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { invalidField } from '../http/errors';
import { metadataBody, metaItemBody, updateVolumeBody } from './schemas';
import { volumeBody, type VolumeUrls } from './views';

type Id = { Params: { project_id: string; id: string } };
type Key = { Params: { project_id: string; id: string; key: string } };

/**
 * Cinder v3.0 volume update (`PUT /volumes/{id}`: name, description, metadata replaced whole) and volume
 * metadata (`/volumes/{id}/metadata`: show, merge with POST, replace with PUT; one key: show, set,
 * delete), each one UpdateVolume call (atomic in the volume service).
 */
export async function volumeMetadataRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest<{ Params: { project_id: string } }>) => VolumeUrls): Promise<void> {
  const volumes = deps.backends.volume;
  const current = async (req: FastifyRequest<Id>) => (await volumes.getVolume({ volumeId: req.params.id }, callContext(req))).volume!;
  /** Sets `set` and, with `replace`, removes every other key. */
  const write = async (req: FastifyRequest<Id>, set: Record<string, string>, opts: { replace?: boolean; name?: string; description?: string } = {}) => {
    const removeMetadata = opts.replace ? Object.keys((await current(req)).metadata).filter((k) => !(k in set)) : [];
    return (await volumes.updateVolume({ volumeId: req.params.id, name: opts.name, description: opts.description, setMetadata: set, removeMetadata }, callContext(req))).volume!;
  };

  type Update = { volume: { name?: string | null; display_name?: string | null; description?: string | null; display_description?: string | null; metadata?: Record<string, string> } };
  app.put<Id & { Body: Update }>('/volumes/:id', { schema: { body: updateVolumeBody } }, async (req) => {
    const b = req.body.volume;
    const name = b.name !== undefined ? b.name : b.display_name;
    const description = b.description !== undefined ? b.description : b.display_description;
    const v = await write(req, b.metadata ?? {}, {
      replace: b.metadata !== undefined,
      name: name === undefined ? undefined : (name ?? ''),
      description: description === undefined ? undefined : (description ?? ''),
    });
    return { volume: volumeBody(v, urls(req)) };
  });

  app.get<Id>('/volumes/:id/metadata', async (req) => ({ metadata: (await current(req)).metadata }));
  app.post<Id & { Body: { metadata: Record<string, string> } }>('/volumes/:id/metadata', { schema: { body: metadataBody } }, async (req) => ({ metadata: (await write(req, req.body.metadata)).metadata }));
  app.put<Id & { Body: { metadata: Record<string, string> } }>('/volumes/:id/metadata', { schema: { body: metadataBody } }, async (req) => ({ metadata: (await write(req, req.body.metadata, { replace: true })).metadata }));

  app.get<Key>('/volumes/:id/metadata/:key', async (req) => {
    const m = (await current(req)).metadata;
    if (!(req.params.key in m)) throw new NotFoundError('volume metadata', `${req.params.id}/${req.params.key}`);
    return { meta: { [req.params.key]: m[req.params.key] } };
  });
  app.put<Key & { Body: { meta: Record<string, string> } }>('/volumes/:id/metadata/:key', { schema: { body: metaItemBody } }, async (req) => {
    const value = req.body.meta[req.params.key];
    if (value === undefined) throw invalidField('meta', 'Request body and URI mismatch.');
    await write(req, { [req.params.key]: value });
    return { meta: { [req.params.key]: value } };
  });
  app.delete<Key>('/volumes/:id/metadata/:key', async (req, reply) => {
    const m = (await current(req)).metadata;
    if (!(req.params.key in m)) throw new NotFoundError('volume metadata', `${req.params.id}/${req.params.key}`);
    await volumes.updateVolume({ volumeId: req.params.id, setMetadata: {}, removeMetadata: [req.params.key] }, callContext(req));
    return reply.code(200).send();
  });
}

/**
 * Cinder v3.0 snapshot metadata (`/snapshots/{id}/metadata`: show, merge with POST, replace with PUT;
 * one key: show, set, delete), each one UpdateSnapshot call (atomic in the volume service).
 */
export async function snapshotMetadataRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const snaps = deps.backends.volume;
  const current = async (req: FastifyRequest<Id>) => (await snaps.getSnapshot({ snapshotId: req.params.id }, callContext(req))).snapshot!;
  const write = async (req: FastifyRequest<Id>, set: Record<string, string>, replace = false) => {
    const removeMetadata = replace ? Object.keys((await current(req)).metadata).filter((k) => !(k in set)) : [];
    return (await snaps.updateSnapshot({ snapshotId: req.params.id, setMetadata: set, removeMetadata }, callContext(req))).snapshot!;
  };
  app.get<Id>('/snapshots/:id/metadata', async (req) => ({ metadata: (await current(req)).metadata }));
  app.post<Id & { Body: { metadata: Record<string, string> } }>('/snapshots/:id/metadata', { schema: { body: metadataBody } }, async (req) => ({ metadata: (await write(req, req.body.metadata)).metadata }));
  app.put<Id & { Body: { metadata: Record<string, string> } }>('/snapshots/:id/metadata', { schema: { body: metadataBody } }, async (req) => ({ metadata: (await write(req, req.body.metadata, true)).metadata }));
  app.get<Key>('/snapshots/:id/metadata/:key', async (req) => {
    const m = (await current(req)).metadata;
    if (!(req.params.key in m)) throw new NotFoundError('snapshot metadata', `${req.params.id}/${req.params.key}`);
    return { meta: { [req.params.key]: m[req.params.key] } };
  });
  app.put<Key & { Body: { meta: Record<string, string> } }>('/snapshots/:id/metadata/:key', { schema: { body: metaItemBody } }, async (req) => {
    const value = req.body.meta[req.params.key];
    if (value === undefined) throw invalidField('meta', 'Request body and URI mismatch.');
    await write(req, { [req.params.key]: value });
    return { meta: { [req.params.key]: value } };
  });
  app.delete<Key>('/snapshots/:id/metadata/:key', async (req, reply) => {
    const m = (await current(req)).metadata;
    if (!(req.params.key in m)) throw new NotFoundError('snapshot metadata', `${req.params.id}/${req.params.key}`);
    await snaps.updateSnapshot({ snapshotId: req.params.id, setMetadata: {}, removeMetadata: [req.params.key] }, callContext(req));
    return reply.code(200).send();
  });
}
