import { loadConfig } from '@minicloud/platform-config';
import { runService, runWhenEntryPoint } from '@minicloud/platform-service';
import { volumeConfigSchema } from './config';
import { wireVolume } from './wire';

/** The volume service (Cinder's role): minicloud.volume.v1.VolumeService on GRPC_PORT (5002). */
export async function main(): Promise<void> {
  const config = loadConfig(volumeConfigSchema, process.env);
  await runService({ name: 'volume', config, wire: wireVolume(config) });
}

runWhenEntryPoint(module, main);
