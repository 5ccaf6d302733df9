import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listAll } from '@minicloud/client';
import type { image } from '@minicloud/proto';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { paginate } from '../http/pagination';
import { statusName } from '../image/views';
import { metadataBody, metadataItemBody } from './extra-schemas';
import { changesSinceMs } from './servers';
import { novaTime, type ComputeUrls } from './views';

/** Nova's image status from Glance's (nova/api/openstack/compute/views/images.py); others are UNKNOWN. */
const NOVA_IMAGE_STATUS: Record<string, string> = { active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', deleted: 'DELETED', pending_delete: 'DELETED', killed: 'ERROR' };
/** Nova's image `progress` by Glance status (the same view builder). */
const NOVA_IMAGE_PROGRESS: Record<string, number> = { queued: 25, saving: 50, active: 100 };

type Id = { Params: { id: string } };
type IdKey = { Params: { id: string; key: string } };

function imageLinks(i: image.Image, urls: ComputeUrls, glanceUrl: string) {
  return [
    { rel: 'self', href: `${urls.versioned}/images/${i.id}` },
    { rel: 'bookmark', href: `${urls.bookmark}/images/${i.id}` },
    { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${glanceUrl}/images/${i.id}` },
  ];
}

/** An image as Nova's GET /images lists it: id, name, links. */
export function novaImageSummary(i: image.Image, urls: ComputeUrls, glanceUrl: string): Record<string, unknown> {
  return { id: i.id, name: i.name, links: imageLinks(i, urls, glanceUrl) };
}

/**
 * An image as Nova 2.1 shows it (GET /images/{id}, /images/detail): Glance's status mapped to
 * Nova's (ACTIVE, SAVING, DELETED, ERROR, UNKNOWN) with its progress, minRam/minDisk, the image
 * properties as `metadata`, OS-EXT-IMG-SIZE:size (bytes), and `server` for a snapshot of an instance.
 */
export function novaImageDetail(i: image.Image, urls: ComputeUrls, glanceUrl: string): Record<string, unknown> {
  const glanceStatus = statusName(i.status);
  const body: Record<string, unknown> = {
    id: i.id,
    name: i.name,
    minRam: i.minRamMb,
    minDisk: i.minDiskGb,
    metadata: i.properties,
    created: novaTime(i.createdAt),
    updated: novaTime(i.updatedAt ?? i.createdAt),
    status: NOVA_IMAGE_STATUS[glanceStatus] ?? 'UNKNOWN',
    progress: NOVA_IMAGE_PROGRESS[glanceStatus] ?? 0,
    links: imageLinks(i, urls, glanceUrl),
    'OS-EXT-IMG-SIZE:size': i.sizeBytes,
  };
  if (i.sourceInstanceId) {
    body.server = {
      id: i.sourceInstanceId,
      links: [
        { rel: 'self', href: `${urls.versioned}/servers/${i.sourceInstanceId}` },
        { rel: 'bookmark', href: `${urls.bookmark}/servers/${i.sourceInstanceId}` },
      ],
    };
  }
  return body;
}

/** Nova's image list filters (name, status in Nova's terms, server id or URL, type, minRam, minDisk, changes-since). */
function imageFilter(req: FastifyRequest): (i: image.Image) => boolean {
  const q = (k: string) => queryValue(req, k);
  const int = (k: string) => {
    const v = q(k);
    if (v !== undefined && !/^\d+$/.test(v)) throw invalidField(k, `'${v}' is not a non-negative integer.`);
    return v === undefined ? undefined : Number(v);
  };
  const minRam = int('minRam');
  const minDisk = int('minDisk');
  const sinceMs = changesSinceMs(q('changes-since'));
  const name = q('name');
  const status = q('status')?.toUpperCase();
  // Nova takes a server id or URL and matches its last path segment against instance_uuid
  const server = q('server')?.split('/').pop();
  const type = q('type');
  return (i) =>
    (name === undefined || i.name === name) &&
    (status === undefined || (NOVA_IMAGE_STATUS[statusName(i.status)] ?? 'UNKNOWN') === status) &&
    (server === undefined || (i.properties.instance_uuid ?? i.sourceInstanceId) === server) &&
    (type === undefined || (i.properties.image_type ?? (i.sourceInstanceId ? 'snapshot' : '')) === type) &&
    (minRam === undefined || i.minRamMb >= minRam) &&
    (minDisk === undefined || i.minDiskGb >= minDisk) &&
    (sinceMs === undefined || (i.updatedAt ?? i.createdAt ?? new Date(0)).getTime() >= sinceMs);
}

/**
 * Nova 2.1's image proxy (deprecated in Nova at 2.36, still served at 2.1): GET /images,
 * /images/detail (Nova's filters, limit/marker), /images/{id}, DELETE /images/{id} (204), and the
 * image's metadata (the Glance properties: the whole map GET/PUT/POST, one key GET/PUT/DELETE),
 * each a call to the image service with the caller's token through the shared client.
 */
export async function novaImageRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest) => ComputeUrls): Promise<void> {
  const img = deps.backends.image;
  const glance = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/image/v2`;
  const getImage = async (id: string, ctx: CallContext) => (await img.getImage({ imageId: id }, ctx)).image!;

  const listed = async (req: FastifyRequest, view: typeof novaImageSummary) => {
    const ctx = callContext(req);
    const all = await listAll(async (pageToken) => {
      const res = await img.listImages({ name: '', page: { pageSize: 1000, pageToken } }, ctx);
      return { items: res.images, next: res.page?.nextPageToken ?? '' };
    });
    // Glance's default order: newest first
    const sorted = all.filter(imageFilter(req)).sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || a.id.localeCompare(b.id));
    const page = paginate(sorted, (i) => i.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') });
    const u = urls(req);
    const path = req.url.split('?')[0].endsWith('/detail') ? 'images/detail' : 'images';
    const next = page.nextMarker ? { images_links: [{ rel: 'next', href: `${u.versioned}/${path}?limit=${page.items.length}&marker=${page.nextMarker}` }] } : {};
    return { images: page.items.map((i) => view(i, u, glance(req))), ...next };
  };
  app.get('/images', async (req) => listed(req, novaImageSummary));
  app.get('/images/detail', async (req) => listed(req, novaImageDetail));
  app.get<Id>('/images/:id', async (req) => ({ image: novaImageDetail(await getImage(req.params.id, callContext(req)), urls(req), glance(req)) }));
  app.delete<Id>('/images/:id', async (req, reply) => {
    await img.deleteImage({ imageId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });

  const setProps = async (req: FastifyRequest<Id>, set: Record<string, string>, remove: string[] = []) =>
    (await img.updateImage({ imageId: req.params.id, setProperties: set, removeProperties: remove, addTags: [], removeTags: [] }, callContext(req))).image!.properties;
  app.get<Id>('/images/:id/metadata', async (req) => ({ metadata: (await getImage(req.params.id, callContext(req))).properties }));
  app.post<Id>('/images/:id/metadata', { schema: { body: metadataBody } }, async (req) => ({
    metadata: await setProps(req, (req.body as { metadata: Record<string, string> }).metadata),
  }));
  app.put<Id>('/images/:id/metadata', { schema: { body: metadataBody } }, async (req) => {
    const wanted = (req.body as { metadata: Record<string, string> }).metadata;
    const stale = Object.keys((await getImage(req.params.id, callContext(req))).properties).filter((k) => !(k in wanted));
    return { metadata: await setProps(req, wanted, stale) };
  });
  app.get<IdKey>('/images/:id/metadata/:key', async (req) => {
    const props = (await getImage(req.params.id, callContext(req))).properties;
    if (!(req.params.key in props)) throw new HttpError(404, 'Image not found.');
    return { meta: { [req.params.key]: props[req.params.key] } };
  });
  app.put<IdKey>('/images/:id/metadata/:key', { schema: { body: metadataItemBody } }, async (req) => {
    const meta = (req.body as { meta: Record<string, string> }).meta;
    if (!(req.params.key in meta)) throw new HttpError(400, 'Request body and URI mismatch');
    const props = await setProps(req, meta);
    return { meta: { [req.params.key]: props[req.params.key] } };
  });
  app.delete<IdKey>('/images/:id/metadata/:key', async (req, reply) => {
    if (!(req.params.key in (await getImage(req.params.id, callContext(req))).properties)) throw new HttpError(404, 'Image not found.');
    await setProps(req, {}, [req.params.key]);
    return reply.code(204).send();
  });
}
