import { loadConfig, requireSecret } from '@minicloud/platform-config';
import { grpcTlsFromEnv } from '@minicloud/platform-grpc';
import { runStatelessService, ServiceCredentials } from '@minicloud/platform-service';
import { catalogBackends } from './backends';
import { openstackApiConfigSchema, type OpenstackApiConfig } from './config';
import { createApiMetrics } from './http/app';
import { catalogSeed } from './identity/catalog';
import { buildServer } from './server';

export { buildServer } from './server';
export { openstackApiConfigSchema, type OpenstackApiConfig } from './config';

/** Catalog service type under which the REST front's replicas register (host:port, as every endpoint). */
export const OPENSTACK_API_SERVICE_TYPE = 'openstack-api';

/**
 * Composition root of the OpenStack REST front: stateless; gRPC clients of identity and of the
 * services in its catalog, the fastify server on HTTP_PORT, metrics on METRICS_PORT, and its
 * endpoint registered in the catalog as one more replica of `openstack-api`. Once listening it seeds
 * identity's Keystone catalog with what it serves (a no-op after the cloud's first start) and only
 * then reports ready, so no token is issued from an empty catalog. With TLS_CERT_FILE/TLS_KEY_FILE
 * (and TLS_CA_FILE, which its gRPC clients verify the services with) it serves HTTPS with that
 * certificate; without them, plain HTTP.
 */
export async function main(config: OpenstackApiConfig = loadConfig(openstackApiConfigSchema, process.env)): Promise<void> {
  await runStatelessService({
    name: 'openstack-api',
    logLevel: config.LOG_LEVEL,
    metricsPort: config.METRICS_PORT,
    metricsHost: config.HTTP_HOST,
    metricsBearerToken: config.METRICS_BEARER_TOKEN,
    wire: async ({ logger, metrics }) => {
      const backends = catalogBackends(config.IDENTITY_URL, { deadlineMs: config.GRPC_DEADLINE_MS, region: config.REGION });
      const credentials = new ServiceCredentials(config.IDENTITY_URL, { userName: config.SERVICE_USER, password: requireSecret('SERVICE_PASSWORD', config.SERVICE_PASSWORD), projectName: config.SERVICE_PROJECT }, config.REGION);
      const tls = grpcTlsFromEnv();
      const https = tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : undefined;
      const app = await buildServer({ backends, region: config.REGION, publicUrl: config.PUBLIC_URL, logger, metrics: createApiMetrics(metrics.registry), bodyLimitBytes: config.MAX_BODY_BYTES, https });
      let listening = false;
      let seeded = false;
      return {
        listen: async () => {
          await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
          listening = true;
          const port = (app.server.address() as { port: number }).port;
          return { url: `${https ? 'https' : 'http'}://${config.PUBLIC_HOST ?? config.HTTP_HOST}:${port}` };
        },
        close: () => app.close(),
        readiness: { http: () => listening && seeded },
        onListening: async (url) => {
          await credentials.identity.seedServiceCatalog(catalogSeed(config.REGION), { token: await credentials.getToken(), retry: true });
          seeded = true;
          await credentials.identity.registerEndpoint(
            { endpoint: { serviceType: OPENSTACK_API_SERVICE_TYPE, url: new URL(url).host, region: config.REGION, interface: 'public' }, addReplica: true },
            { token: await credentials.getToken(), retry: true },
          );
        },
        afterStop: [{ name: 'grpc clients', run: () => (backends.close(), credentials.close()) }],
      };
    },
  });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
