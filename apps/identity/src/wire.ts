import type { Clock } from '@minicloud/domain-clock';
import { requireSecret } from '@minicloud/platform-config';
import { periodic, systemClock } from '@minicloud/platform-lifecycle';
import { Counter } from '@minicloud/platform-metrics';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import { keyspace } from '@minicloud/platform-state';
import { identityService } from './api/identity-service';
import { AppCredentialStore } from './app-credential-store';
import { CatalogStore } from './catalog-store';
import { ServiceCatalogStore } from './service-catalog-store';
import type { IdentityConfig } from './config';
import { DirectoryStore } from './directory-store';
import { QuotaStore } from './quota-store';
import { RevocationStore } from './revocation-store';
import { LockoutStore } from './lockout-store';
import { seedDirectory } from './seed';
import { SigningKeyStore } from './signing-key-store';
import { keySealerFor } from './key-sealing';
import { TokenService } from './token-service';

/**
 * Builds identity on the shared deps: stores under `mc:identity:*`, the bootstrap seed, an active
 * signing key, the gRPC service, its own token verifier (local keys + durable revocations), the
 * reservation-expiry sweep, and (once listening) its catalog entry.
 */
export function wireIdentity(config: IdentityConfig, opts: { clock?: Pick<Clock, 'nowMs'> } = {}): (deps: ServiceDeps) => Promise<ServiceWiring> {
  return async (deps) => {
    const nowMs = () => (opts.clock ?? systemClock).nowMs();
    const key = keyspace('identity');
    const ttl = { maxTokenTtlSeconds: config.TOKEN_TTL_SECONDS, nowMs };
    const dir = new DirectoryStore(deps.redis, key);
    const appCreds = new AppCredentialStore(deps.redis, key, nowMs);
    const keys = new SigningKeyStore(deps.redis, key, ttl, keySealerFor(config.SIGNING_KEY_ENCRYPTION_KEY));
    const revocations = new RevocationStore(deps.redis, key, deps.revocations, ttl);
    const lockout = new LockoutStore(
      deps.redis,
      key,
      { failureAttempts: config.LOCKOUT_FAILURE_ATTEMPTS, durationSeconds: config.LOCKOUT_DURATION_SECONDS, exemptUserNames: [config.SERVICE_USER, ...config.SERVICE_ACCOUNTS.map((a) => a.name)] },
      nowMs,
    );
    const tokens = new TokenService(dir, appCreds, keys, revocations, deps.revocations, {
      tokenTtlSeconds: config.TOKEN_TTL_SECONDS,
      nowMs,
      lockout,
      adminProject: { name: config.ADMIN_PROJECT_NAME, domainName: config.ADMIN_PROJECT_DOMAIN_NAME },
    });
    const catalog = new CatalogStore(deps.redis, key);
    const serviceCatalog = new ServiceCatalogStore(deps.redis, key);
    const quotas = new QuotaStore(deps.redis, key, nowMs);

    await seedDirectory(dir, {
      adminPassword: config.ADMIN_PASSWORD,
      serviceUser: config.SERVICE_USER,
      servicePassword: requireSecret('SERVICE_PASSWORD', config.SERVICE_PASSWORD),
      serviceProject: config.SERVICE_PROJECT,
      serviceAccounts: config.SERVICE_ACCOUNTS,
    });
    await keys.ensureActive();

    const authentications = new Counter({
      name: 'minicloud_identity_authentications_total',
      help: 'Authenticate calls by outcome (success, invalid_credentials, user_disabled, no_role, credential_expired, bad_request).',
      labelNames: ['outcome'] as const,
      registers: [deps.metrics.registry],
    });

    return {
      services: [identityService({ dir, appCreds, keys, revocations, tokens, catalog, serviceCatalog, quotas, bus: deps.bus, logger: deps.logger, authentications, nowMs })],
      verifier: tokens.verifier,
      runnables: [
        periodic('quota-reservation-sweep', config.QUOTA_SWEEP_INTERVAL_MS, async () => void (await quotas.expireDue()), (e) =>
          deps.logger.warn({ err: e }, 'quota reservation sweep failed'),
        ),
      ],
      onListening: async (server) => {
        await catalog.register({ serviceType: 'identity', url: config.IDENTITY_PUBLIC_URL || server.address, region: config.REGION, interface: 'public' });
      },
    };
  };
}
