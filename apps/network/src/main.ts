import { loadConfig } from '@minicloud/platform-config';
import { runService, runWhenEntryPoint } from '@minicloud/platform-service';
import { networkConfigSchema } from './config';
import { wireNetwork } from './wire';

export { wireNetwork, buildNetworkLogic } from './wire';
export { networkConfigSchema } from './config';

/** The network service process (Neutron ML2 + VXLAN + l2pop): `npx tsx apps/network/src/main.ts`. */
async function main(): Promise<void> {
  const config = loadConfig(networkConfigSchema, process.env);
  await runService({ name: 'network', config, wire: (deps) => wireNetwork(deps, config) });
}

runWhenEntryPoint(module, main);
