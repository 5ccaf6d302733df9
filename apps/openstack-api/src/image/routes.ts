import type { FastifyInstance, FastifyRequest } from 'fastify';
import { image } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { invalidField } from '../http/errors';
import { listAll } from '@minicloud/client';
import { paginate } from '../http/pagination';
import { imageSchema, imagesSchema } from './schemas';
import { imageView, statusName, visibilityName } from './views';

/** Glance's image API versions this front answers to (all served by the same v2 routes). */
const VERSIONS = ['2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'];

/**
 * Glance v2 under `/image`: the versions list (300, as Glance answers), images list (filters
 * name, status, visibility, owner; limit/marker; Glance's `first`/`next` links) and show, and the
 * schemas clients fetch.
 */
export async function imageRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const versions = (req: FastifyRequest) => ({
    versions: VERSIONS.map((v, i) => ({ id: `v${v}`, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href: `${baseUrl(req, deps.publicUrl)}/image/v2/` }] })),
  });
  app.get('/', async (req, reply) => reply.code(300).send(versions(req)));
  app.get('/versions', async (req) => versions(req));

  app.get('/v2/schemas/image', async () => imageSchema);
  app.get('/v2/schemas/images', async () => imagesSchema);

  app.get('/v2/images', async (req) => {
    const q = (k: string) => queryValue(req, k);
    const visibility = q('visibility');
    if (visibility !== undefined && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) {
      throw invalidField('visibility', `'${visibility}' is not one of public, private, shared, community, all.`);
    }
    const all = await listAll(async (pageToken) => {
      const res = await deps.backends.image.listImages({ name: q('name') ?? '', page: { pageSize: 1000, pageToken } }, callContext(req));
      return { items: res.images, next: res.page?.nextPageToken ?? '' };
    });
    const status = q('status');
    const owner = q('owner');
    const filtered = all.filter(
      (i) =>
        (status === undefined || statusName(i.status) === status) &&
        (visibility === undefined || visibility === 'all' || visibilityName(i.visibility) === visibility) &&
        (owner === undefined || i.ownerProjectId === owner) &&
        i.status !== image.ImageStatus.IMAGE_STATUS_DELETED,
    );
    filtered.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || b.id.localeCompare(a.id));
    const page = paginate(filtered, (i) => i.id, { limit: q('limit'), marker: q('marker') }, 1000);
    return {
      images: page.items.map(imageView),
      first: '/v2/images',
      schema: '/v2/schemas/images',
      ...(page.nextMarker ? { next: `/v2/images?marker=${page.nextMarker}&limit=${page.items.length}` } : {}),
    };
  });

  app.get<{ Params: { id: string } }>('/v2/images/:id', async (req) => imageView((await deps.backends.image.getImage({ imageId: req.params.id }, callContext(req))).image!));
}
