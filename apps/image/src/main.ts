import { loadConfig } from '@minicloud/platform-config';
import { runService, runWhenEntryPoint } from '@minicloud/platform-service';
import { imageConfigSchema } from './config';
import { wireImageProcess } from './wire';

export { imageConfigSchema } from './config';
export { wireImageService } from './wire';

/** Composition root of the image service (Glance): `npx tsx apps/image/src/main.ts`. */
export async function main(): Promise<void> {
  const config = loadConfig(imageConfigSchema, process.env);
  await runService({ name: 'image', config, wire: wireImageProcess(config) });
}

runWhenEntryPoint(module, main);
