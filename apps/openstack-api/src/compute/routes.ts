import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { baseUrl } from '../http/context';
import { formatMicroversion, MAX_MICROVERSION, microversionHeaders, MIN_MICROVERSION, negotiateMicroversion, setRequestMicroversion } from './microversion';
import { actionRoutes } from './actions';
import { novaImageRoutes } from './images';
import { infrastructureRoutes } from './infrastructure';
import { keypairRoutes } from './keypairs';
import { quotaRoutes } from './quotas';
import { serverResourceRoutes } from './server-resources';
import { interfaceRoutes } from './interfaces';
import { serverSecurityGroupRoutes } from './security-groups';
import { serverRoutes } from './servers';
import { flavorRoutes } from './flavors';
import type { ComputeUrls } from './views';

/**
 * Nova's v2.0 version document at `versionedUrl`: the legacy v2 API, which Nova serves with the v2.1
 * code and no microversions (status SUPPORTED, empty version fields, as Nova's versions view).
 */
function v20Version(versionedUrl: string): Record<string, unknown> {
  return {
    id: 'v2.0',
    status: 'SUPPORTED',
    version: '',
    min_version: '',
    updated: '2011-01-21T11:33:21Z',
    links: [
      { rel: 'self', href: `${versionedUrl}/` },
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2' }],
  };
}

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
 * Nova under `/compute`: the versions list (v2.0 and v2.1, as Nova lists them), and the API at
 * `/compute/v2.1` with microversion negotiation on every call (Nova's headers on every answer) and
 * at `/compute/v2` (the legacy v2.0: the same routes, no microversions, as Nova serves v2.0 with its
 * v2.1 code): flavors ({@link flavorRoutes}), servers ({@link serverRoutes}), their
 * actions and resources, key pairs, the image proxy, the operator's hosts, aggregates, zones,
 * groups and migrations, limits, quotas and usage.
 */
export async function computeRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const urlsAt = (version: 'v2' | 'v2.1') => (req: FastifyRequest): ComputeUrls => {
    const bookmark = `${baseUrl(req, deps.publicUrl)}/compute`;
    return { bookmark, versioned: `${bookmark}/${version}` };
  };

  app.get('/', async (req, reply) =>
    reply.code(200).send({ versions: [v20Version(urlsAt('v2')(req).versioned), v21Version(urlsAt('v2.1')(req).versioned)] }),
  );

  const mount = async (api: FastifyInstance, version: 'v2' | 'v2.1') => {
    const urls = urlsAt(version);
    if (version === 'v2.1') {
      api.addHook('onRequest', async (req, reply) => {
        const v = negotiateMicroversion(req.headers);
        setRequestMicroversion(req, v);
        reply.headers(microversionHeaders(v));
      });
    }
    api.get('/', async (req) => ({ version: version === 'v2.1' ? v21Version(urls(req).versioned) : v20Version(urls(req).versioned) }));

    await flavorRoutes(api, deps, urls);
    await serverRoutes(api, deps, urls);
    await actionRoutes(api, deps, urls);
    await serverResourceRoutes(api, deps, urls);
    await serverSecurityGroupRoutes(api, deps);
    await interfaceRoutes(api, deps);
    await keypairRoutes(api, deps);
    await novaImageRoutes(api, deps, urls);
    await infrastructureRoutes(api, deps);
    await quotaRoutes(api, deps);
  };
  await app.register((scope) => mount(scope, 'v2.1'), { prefix: '/v2.1' });
  await app.register((scope) => mount(scope, 'v2'), { prefix: '/v2' });
}
