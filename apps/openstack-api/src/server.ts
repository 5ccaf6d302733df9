import type { FastifyInstance } from 'fastify';
import type { Logger } from '@minicloud/platform-logging';
import { computeRoutes } from './compute/routes';
import type { ApiDeps } from './deps';
import { createApp, type ApiMetrics } from './http/app';
import { baseUrl } from './http/context';
import { identityRoutes } from './identity/routes';
import { imageRoutes } from './image/routes';
import { networkRoutes } from './network/routes';
import { volumeRoutes } from './volume/routes';

/**
 * The whole REST front on one fastify instance, at devstack's path prefixes: `/identity`
 * (Keystone v3), `/compute` (Nova v2.1), `/image` (Glance v2), `/network` (Neutron v2.0), `/volume` (Cinder v3).
 */
export async function buildServer(deps: ApiDeps & { logger: Logger; metrics?: ApiMetrics; bodyLimitBytes?: number; https?: { cert: Buffer; key: Buffer } }): Promise<FastifyInstance> {
  const app = createApp({ logger: deps.logger, metrics: deps.metrics, bodyLimitBytes: deps.bodyLimitBytes, https: deps.https, keystoneUrl: (req) => `${baseUrl(req, deps.publicUrl)}/identity` });
  await app.register((s) => identityRoutes(s, deps), { prefix: '/identity' });
  await app.register((s) => computeRoutes(s, deps), { prefix: '/compute' });
  await app.register((s) => imageRoutes(s, deps), { prefix: '/image' });
  await app.register((s) => networkRoutes(s, deps), { prefix: '/network' });
  await app.register((s) => volumeRoutes(s, deps), { prefix: '/volume' });
  return app;
}
