import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { listAll } from '@minicloud/client';
import { HttpError } from '../http/errors';
import { paginate } from '../http/pagination';
import { imageSchema, imagesSchema } from './schemas';
import { imageFilter, sortImages, sortOrder } from './list';
import { imageMemberRoutes } from './members';
import { imageView } from './views';
import { imageWriteRoutes } from './writes';

/** Glance's image API versions this front answers to (all served by the same v2 routes). */
const VERSIONS = ['2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'];

/**
 * Glance v2 under `/image`: the versions list (300, as Glance answers), images list (Glance's
 * filters, sort_key/sort_dir or sort=, limit/marker with `first`/`next` links) and show, the schemas
 * clients fetch, and the writes ({@link imageWriteRoutes}) and members ({@link imageMemberRoutes}).
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
    // an empty image id (`/v2/images/`) names no image: Glance's router answers 404, not the list
    if (req.url.split('?')[0].endsWith('/')) throw new HttpError(404, 'The resource could not be found.');
    const query = req.query as Record<string, string | string[] | undefined>;
    const q = (k: string) => queryValue(req, k);
    const list = (k: string) => [query[k] ?? []].flat();
    const order = sortOrder({ sort: q('sort'), sort_key: list('sort_key'), sort_dir: list('sort_dir') });
    const keep = imageFilter(Object.fromEntries(Object.keys(query).map((k) => [k, q(k)])), list('tag'));
    const all = await listAll(async (pageToken) => {
      const res = await deps.backends.image.listImages({ name: q('name') ?? '', page: { pageSize: 1000, pageToken } }, callContext(req));
      return { items: res.images, next: res.page?.nextPageToken ?? '' };
    });
    const page = paginate(sortImages(all.filter(keep), order), (i) => i.id, { limit: q('limit'), marker: q('marker') }, 1000);
    const rest = new URLSearchParams(Object.entries(query).flatMap(([k, v]) => (k === 'marker' || k === 'limit' ? [] : [v ?? []].flat().map((x): [string, string] => [k, x]))));
    const more = rest.toString() ? `&${rest}` : '';
    return {
      images: page.items.map(imageView),
      first: `/v2/images${more ? `?${rest}` : ''}`,
      schema: '/v2/schemas/images',
      ...(page.nextMarker ? { next: `/v2/images?marker=${page.nextMarker}&limit=${page.items.length}${more}` } : {}),
    };
  });

  app.get<{ Params: { id: string } }>('/v2/images/:id', async (req) => imageView((await deps.backends.image.getImage({ imageId: req.params.id }, callContext(req))).image!));
  await imageWriteRoutes(app, deps);
  await imageMemberRoutes(app, deps);
}
