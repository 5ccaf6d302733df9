import { loadConfig } from '@minicloud/platform-config';
import { runService, runWhenEntryPoint } from '@minicloud/platform-service';
import { controllerConfigSchema } from './config';
import { createController } from './wire';

/**
 * The controller process (Nova API + scheduler + conductor): serves ComputeService and
 * HostRegistryService on GRPC_PORT (default 5004) and registers itself as `compute` in the catalog.
 */
export async function main(): Promise<void> {
  const config = loadConfig(controllerConfigSchema, process.env);
  await runService({
    name: 'controller',
    config,
    wire: async (deps) => {
      const credentials = deps.credentials;
      if (!credentials) throw new Error('controller needs service credentials');
      const controller = createController({ config, redis: deps.redis, bus: deps.bus, logger: deps.logger, registry: deps.metrics.registry, credentials });
      return {
        services: controller.services,
        runnables: controller.runnables,
        afterStop: [{ name: 'peer clients', run: () => controller.close() }],
        onListening: async (server) => {
          const token = await credentials.getToken();
          // Every replica advertises itself; clients fail over along the catalog's list (newest first).
          await credentials.identity.registerEndpoint({ endpoint: { serviceType: 'compute', url: server.address, region: config.REGION }, addReplica: true }, { token });
        },
      };
    },
  });
}

runWhenEntryPoint(module, main);
