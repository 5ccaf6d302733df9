import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { paginate } from '../http/pagination';
import { formatMicroversion, MAX_MICROVERSION, microversionHeaders, MIN_MICROVERSION, negotiateMicroversion } from './microversion';
import { actionRoutes } from './actions';
import { infrastructureRoutes } from './infrastructure';
import { quotaRoutes } from './quotas';
import { serverResourceRoutes } from './server-resources';
import { serverRoutes } from './servers';
import { flavorDetail, flavorSummary, type ComputeUrls } from './views';

/** Nova's v2.1 version document at `versionedUrl`. */
function v21Version(versionedUrl: string): Record<string, unknown> {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatMicroversion(MAX_MICROVERSION),
    min_version: formatMicroversion(MIN_MICROVERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [
      { rel: 'self', href: `${versionedUrl}/` },
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

/**
 * Nova v2.1 under `/compute`: the versions list, the v2.1 version document, microversion
 * negotiation on every v2.1 call (Nova's headers on every answer), flavors (list, detail, show,
 * extra specs), servers ({@link serverRoutes}), their actions and resources, the operator's
 * hosts, aggregates, zones, groups and migrations, limits, quotas and usage.
 */
export async function computeRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const urls = (req: FastifyRequest): ComputeUrls => {
    const bookmark = `${baseUrl(req, deps.publicUrl)}/compute`;
    return { bookmark, versioned: `${bookmark}/v2.1` };
  };

  app.get('/', async (req, reply) => reply.code(200).send({ versions: [v21Version(urls(req).versioned)] }));

  await app.register(
    async (v21) => {
      v21.addHook('onRequest', async (req, reply) => {
        reply.headers(microversionHeaders(negotiateMicroversion(req.headers)));
      });
      v21.get('/', async (req) => ({ version: v21Version(urls(req).versioned) }));

      const flavors = async (req: FastifyRequest) => {
        const all = (await deps.backends.compute.listFlavors({}, callContext(req))).flavors;
        const minRam = queryValue(req, 'minRam');
        const minDisk = queryValue(req, 'minDisk');
        for (const [k, v] of [['minRam', minRam], ['minDisk', minDisk]] as const) {
          if (v !== undefined && !/^\d+$/.test(v)) throw invalidField(k, `'${v}' is not a non-negative integer.`);
        }
        const sorted = all
          .filter((f) => (minRam === undefined || f.ramMb >= Number(minRam)) && (minDisk === undefined || f.diskGb >= Number(minDisk)))
          .sort((a, b) => a.id.localeCompare(b.id));
        return paginate(sorted, (f) => f.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') });
      };
      const flavorsLinks = (req: FastifyRequest, path: string, next?: string, count = 0) =>
        next ? { flavors_links: [{ rel: 'next', href: `${urls(req).versioned}/${path}?limit=${count}&marker=${next}` }] } : {};

      v21.get('/flavors', async (req) => {
        const page = await flavors(req);
        return { flavors: page.items.map((f) => flavorSummary(f, urls(req))), ...flavorsLinks(req, 'flavors', page.nextMarker, page.items.length) };
      });
      v21.get('/flavors/detail', async (req) => {
        const page = await flavors(req);
        return { flavors: page.items.map((f) => flavorDetail(f, urls(req))), ...flavorsLinks(req, 'flavors/detail', page.nextMarker, page.items.length) };
      });
      v21.get<{ Params: { id: string } }>('/flavors/:id', async (req) => ({
        flavor: flavorDetail((await deps.backends.compute.getFlavor({ flavorRef: req.params.id }, callContext(req))).flavor!, urls(req)),
      }));
      v21.get<{ Params: { id: string } }>('/flavors/:id/os-extra_specs', async (req) => ({
        extra_specs: (await deps.backends.compute.getFlavor({ flavorRef: req.params.id }, callContext(req))).flavor!.extraSpecs,
      }));
      v21.get<{ Params: { id: string; key: string } }>('/flavors/:id/os-extra_specs/:key', async (req) => {
        const specs = (await deps.backends.compute.getFlavor({ flavorRef: req.params.id }, callContext(req))).flavor!.extraSpecs;
        if (!(req.params.key in specs)) throw new HttpError(404, `Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`);
        return { [req.params.key]: specs[req.params.key] };
      });

      await serverRoutes(v21, deps, urls);
      await actionRoutes(v21, deps, urls);
      await serverResourceRoutes(v21, deps, urls);
      await infrastructureRoutes(v21, deps);
      await quotaRoutes(v21, deps);
    },
    { prefix: '/v2.1' },
  );
}
