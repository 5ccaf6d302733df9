import { loadConfig } from '@minicloud/platform-config';
import { runService } from '@minicloud/platform-service';
import { identityConfigSchema } from './config';
import { wireIdentity } from './wire';

export { wireIdentity } from './wire';
export { identityConfigSchema, type IdentityConfig } from './config';

/** Composition root of the identity service (Keystone role). */
export async function main(): Promise<void> {
  const config = loadConfig(identityConfigSchema, process.env);
  await runService({ name: 'identity', config, selfAuthenticating: true, wire: wireIdentity(config) });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
