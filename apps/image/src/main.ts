import { loadConfig } from '@minicloud/platform-config';
import { runService } from '@minicloud/platform-service';
import { imageConfigSchema } from './config';
import { wireImageService } from './wire';

export { imageConfigSchema } from './config';
export { wireImageService } from './wire';

/** Composition root of the image service (Glance): `npx tsx apps/image/src/main.ts`. */
export async function main(): Promise<void> {
  const config = loadConfig(imageConfigSchema, process.env);
  await runService({
    name: 'image',
    config,
    wire: async (deps) => {
      const wiring = await wireImageService({
        logger: deps.logger,
        redis: deps.redis,
        bus: deps.bus,
        registry: deps.metrics.registry,
        dataDir: config.IMAGE_DATA_DIR,
        maxBytes: config.IMAGE_MAX_BYTES,
      });
      return {
        services: wiring.services,
        onListening: async (server) => {
          if (!deps.credentials) return;
          const token = await deps.credentials.getToken();
          await deps.credentials.identity.registerEndpoint(
            { endpoint: { serviceType: 'image', url: server.address, region: 'RegionOne', interface: 'public' } },
            { token },
          );
        },
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
