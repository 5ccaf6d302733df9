import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MinicloudError } from '@minicloud/domain-errors';
import { chunksOf, imageUploadMessages } from '@minicloud/client';
import { image } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { parseJsonBody } from '../http/app';
import { baseUrl, callContext } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { patchToUpdate, READ_ONLY, type PatchOp } from './patch';
import { createImageBody, patchImageBody } from './schemas';
import { imageView, visibilityFromName } from './views';

/** Glance v2.1's JSON-patch media type (RFC 6902 operations: `{op, path, value}`). */
export const JSON_PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';
/** Glance v2.0's JSON-patch media type (the draft-10 form: `{"replace": "/name", "value": ...}`), still accepted by Glance. */
export const JSON_PATCH_V20_TYPE = 'application/openstack-images-v2.0-json-patch';

/**
 * The v2.1 form of a v2.0 patch body: each `{<op>: <path>, value}` with exactly one of add, replace,
 * remove becomes `{op, path, value}`; anything else is left for the schema to refuse.
 */
export function patchV20ToV21(body: unknown): unknown {
  if (!Array.isArray(body)) return body;
  return body.map((item) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return item;
    const ops = (['add', 'replace', 'remove'] as const).filter((op) => op in item);
    const extra = Object.keys(item).filter((k) => k !== 'value' && !ops.includes(k as never));
    if (ops.length !== 1 || extra.length) return item;
    const { value, ...rest } = item as Record<string, unknown>;
    return { op: ops[0], path: rest[ops[0]], ...('value' in item ? { value } : {}) };
  });
}

/** Core attributes of a create body; every other key is a custom property. */
const CORE = new Set(['name', 'disk_format', 'container_format', 'visibility', 'protected', 'min_ram', 'min_disk', 'tags', 'os_hidden', 'id']);

type Id = { Params: { id: string } };

/**
 * Glance's answers for the image service's refusals that Glance gives as 403: deleting a protected
 * image ("is protected and cannot be deleted") and downloading a deactivated one. Others pass on.
 */
export function glanceError(e: unknown): unknown {
  if (e instanceof MinicloudError && e.code === 'FAILED_PRECONDITION' && (e.reason === 'image_protected' || e.reason === 'image_deactivated')) return new HttpError(403, e.message);
  return e;
}

function mediaType(req: FastifyRequest): string {
  return String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** The CreateImage request of a Glance create body. @throws HttpError 403 (read-only attribute), 400 (custom id), 501 (os_hidden) */
export function createRequest(body: Record<string, unknown>): image.CreateImageRequest {
  for (const k of Object.keys(body)) if (READ_ONLY.has(k) && k !== 'id' && k !== 'disk_format' && k !== 'container_format' && k !== 'os_hidden') throw new HttpError(403, `Attribute '${k}' is read-only.`);
  if (body.id !== undefined) throw invalidField('id', 'Images with a caller-chosen id are not supported by this cloud.');
  if (body.os_hidden === true) throw new HttpError(501, 'Hidden images (os_hidden) are not supported by this cloud.');
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (!CORE.has(k)) properties[k] = v as string;
  return {
    name: (body.name as string | null | undefined) ?? '',
    diskFormat: (body.disk_format as string | null | undefined) ?? '',
    containerFormat: (body.container_format as string | null | undefined) ?? '',
    visibility: body.visibility ? visibilityFromName(body.visibility as string)! : image.ImageVisibility.IMAGE_VISIBILITY_UNSPECIFIED,
    protected: body.protected === true,
    minRamMb: (body.min_ram as number | undefined) ?? 0,
    minDiskGb: (body.min_disk as number | undefined) ?? 0,
    properties,
    sourceInstanceId: '',
    tags: (body.tags as string[] | undefined) ?? [],
  };
}

/**
 * Glance v2's image writes: create (201, status queued, Location), data upload (PUT .../file,
 * application/octet-stream, streamed to UploadImage as it arrives; 204) and download (GET .../file,
 * streamed, Content-MD5 = checksum; 204 when there is no data), JSON-patch update, delete (204; 403
 * when protected), deactivate/reactivate (204), and tags (PUT/DELETE .../tags/{tag}, 204).
 */
export async function imageWriteRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const images = deps.backends.image;
  // the upload body is not read here: the route streams it to the image service
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  app.addContentTypeParser(JSON_PATCH_TYPE, { parseAs: 'string' }, parseJsonBody);
  app.addContentTypeParser(JSON_PATCH_V20_TYPE, { parseAs: 'string' }, (req, body, done) => parseJsonBody(req, body, (err, parsed) => done(err, patchV20ToV21(parsed))));

  app.post<{ Body: Record<string, unknown> }>('/v2/images', { schema: { body: createImageBody } }, async (req, reply) => {
    const created = (await images.createImage(createRequest(req.body ?? {}), callContext(req))).image!;
    reply.header('location', `${baseUrl(req, deps.publicUrl)}/image/v2/images/${created.id}`);
    return reply.code(201).send(imageView(created));
  });

  app.patch<Id & { Body: PatchOp[] }>('/v2/images/:id', { schema: { body: patchImageBody } }, async (req) => {
    if (mediaType(req) !== JSON_PATCH_TYPE && mediaType(req) !== JSON_PATCH_V20_TYPE) throw new HttpError(415, `Unsupported Content-Type: PATCH takes ${JSON_PATCH_TYPE} or ${JSON_PATCH_V20_TYPE}.`);
    if (!Array.isArray(req.body)) throw invalidField('body', 'the body must be a JSON-patch list.');
    const current = (await images.getImage({ imageId: req.params.id }, callContext(req))).image!;
    if (req.body.length === 0) return imageView(current);
    return imageView((await images.updateImage(patchToUpdate(current, req.body), callContext(req))).image!);
  });

  app.delete<Id>('/v2/images/:id', async (req, reply) => {
    await images.deleteImage({ imageId: req.params.id }, callContext(req)).catch((e: unknown) => Promise.reject(glanceError(e)));
    return reply.code(204).send();
  });

  app.post<Id>('/v2/images/:id/actions/deactivate', async (req, reply) => {
    await images.deactivateImage({ imageId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });
  app.post<Id>('/v2/images/:id/actions/reactivate', async (req, reply) => {
    await images.reactivateImage({ imageId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });

  type Tag = { Params: { id: string; tag: string } };
  const tagUpdate = (imageId: string, add: string[], remove: string[]): image.UpdateImageRequest => ({ imageId, setProperties: {}, removeProperties: [], addTags: add, removeTags: remove });
  app.put<Tag>('/v2/images/:id/tags/:tag', async (req, reply) => {
    await images.updateImage(tagUpdate(req.params.id, [req.params.tag], []), callContext(req));
    return reply.code(204).send();
  });
  app.delete<Tag>('/v2/images/:id/tags/:tag', async (req, reply) => {
    const { image: img } = await images.getImage({ imageId: req.params.id }, callContext(req));
    if (!img!.tags.includes(req.params.tag)) throw new HttpError(404, `Tag ${req.params.tag} not found.`);
    await images.updateImage(tagUpdate(req.params.id, [], [req.params.tag]), callContext(req));
    return reply.code(204).send();
  });

  app.put<Id & { Body: Readable }>('/v2/images/:id/file', async (req, reply) => {
    if (mediaType(req) !== 'application/octet-stream') throw new HttpError(415, 'Unsupported Content-Type: image data is application/octet-stream.');
    const body = req.body;
    if (!(body instanceof Readable)) throw new HttpError(400, 'The request carried no image data.');
    await images.uploadImage(imageUploadMessages(req.params.id, body), { ...callContext(req), deadlineMs: 3_600_000 });
    return reply.code(204).send();
  });

  app.get<Id>('/v2/images/:id/file', async (req, reply) => download(req, reply, deps));
}

/** GET .../file: the bytes as the image service streams them, after a first chunk proves the call good. */
async function download(req: FastifyRequest<Id>, reply: FastifyReply, deps: ApiDeps): Promise<FastifyReply> {
  const ctx = callContext(req);
  const img = (await deps.backends.image.getImage({ imageId: req.params.id }, ctx)).image!;
  if (img.sizeBytes <= 0) return reply.code(204).send();
  const it = chunksOf(deps.backends.image.downloadImage({ imageId: img.id }, { ...ctx, deadlineMs: 3_600_000 }))[Symbol.asyncIterator]();
  // errors before the first byte (deactivated, gone) still get a status and Glance's body
  const first = await it.next().catch((e: unknown) => Promise.reject(glanceError(e)));
  const rest = async function* () {
    if (!first.done) yield first.value;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  };
  reply.header('content-type', 'application/octet-stream').header('content-length', String(img.sizeBytes));
  if (img.checksumMd5) reply.header('content-md5', img.checksumMd5);
  return reply.send(Readable.from(rest()));
}
