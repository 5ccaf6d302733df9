import { loadConfig } from '@minicloud/platform-config';
import { runService, runWhenEntryPoint } from '@minicloud/platform-service';
import { elasticityConfigSchema } from './config';
import { wireElasticity } from './wire';

/**
 * The elasticity service (Octavia's, Senlin's and Aodh's roles): minicloud.elasticity.v1.ElasticityService
 * on GRPC_PORT (5005).
 */
export async function main(): Promise<void> {
  const config = loadConfig(elasticityConfigSchema, process.env);
  await runService({ name: 'elasticity', config, wire: wireElasticity(config) });
}

runWhenEntryPoint(module, main);
