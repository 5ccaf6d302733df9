/**
 * `npm run compose:secrets`: generates the secrets of the compose deployment, once, before the first
 * `docker-compose up`: `deploy/.env` (passwords that compose puts into each container's environment)
 * and `deploy/secrets/redis-users.acl` and `deploy/secrets/nats.conf` (the users Redis and NATS
 * accept), all mode 0600. An existing `deploy/.env` is kept (its passwords are reused) unless
 * `--rotate` is given.
 *
 * Each service (image, volume, network, controller, openstack-api) gets its own identity user
 * `svc-<service>` (admin on the system and the service project): its password is
 * `MINICLOUD_ACCOUNT_PASSWORD_SVC_<SERVICE>`, and identity seeds the users from
 * `MINICLOUD_SERVICE_ACCOUNTS` (its SERVICE_ACCOUNTS, JSON built from those passwords). The metrics
 * bearer token is `MINICLOUD_METRICS_BEARER_TOKEN` (every service's METRICS_BEARER_TOKEN) and
 * `deploy/prometheus/secrets/metrics-token` (Prometheus' credentials_file).
 *
 * Compose scales agents with `--scale`, so their host ids are not known here: the compose agents share
 * one Redis/NATS user allowed every host's subjects and keys, and the shared identity user
 * (SERVICE_USER `minicloud`) (a local bring-up gives each agent its own; see docs/security.md).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { natsServerConfig, redisAclFile, STATEFUL_SERVICES, type InfraUser } from './infra-access';
import { newSecret } from './secrets';

/** The env variable of one Redis/NATS user's password in deploy/.env. */
export function composePasswordVar(user: string): string {
  return `MINICLOUD_INFRA_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The services of the compose deployment that log in to identity as their own user `svc-<service>`. */
export const COMPOSE_SERVICE_ACCOUNTS = ['image', 'volume', 'network', 'controller', 'elasticity', 'openstack-api'] as const;

/** The env variable of one service account's password in deploy/.env (`svc-image` -> MINICLOUD_ACCOUNT_PASSWORD_SVC_IMAGE). */
export function composeAccountPasswordVar(account: string): string {
  return `MINICLOUD_ACCOUNT_PASSWORD_${account.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Identity's SERVICE_ACCOUNTS for compose: one admin user `svc-<service>` per service of
 * {@link COMPOSE_SERVICE_ACCOUNTS}, with its password from `passwordOf(account)`.
 * @returns the JSON value (no `$`, no newline: it goes into deploy/.env as one line)
 */
export function composeServiceAccounts(passwordOf: (account: string) => string): string {
  return JSON.stringify(COMPOSE_SERVICE_ACCOUNTS.map((service) => ({ name: `svc-${service}`, password: passwordOf(`svc-${service}`), role: 'admin' })));
}

/** The Redis/NATS users of the compose deployment (the agents share `agents`, allowed every host). */
export function composeUsers(passwordOf: (user: string) => string): InfraUser[] {
  return [
    { name: 'operator', password: passwordOf('operator'), principal: { kind: 'operator' } },
    ...STATEFUL_SERVICES.map((service): InfraUser => ({ name: service, password: passwordOf(service), principal: { kind: 'service', service } })),
    // '*' and '>' are NATS wildcards (and '*' a Redis glob): any host id, any tunnel IP.
    { name: 'agents', password: passwordOf('agents'), principal: { kind: 'agent', hostIds: ['*'], tunnelIps: ['>'] } },
  ];
}

/** Parses a KEY=value env file (no quoting; our values are base64url). */
function readEnvFile(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function main(): void {
  const deploy = path.resolve(__dirname, '../../deploy');
  const envFile = path.join(deploy, '.env');
  const rotate = process.argv.includes('--rotate');
  const env = rotate ? {} : readEnvFile(envFile);
  const keep = (name: string, make: () => string) => (env[name] ||= make());
  keep('MINICLOUD_ADMIN_PASSWORD', newSecret);
  keep('MINICLOUD_SERVICE_PASSWORD', newSecret);
  keep('MINICLOUD_SIGNING_KEY_ENCRYPTION_KEY', () => randomBytes(32).toString('base64url'));
  keep('MINICLOUD_METADATA_SECRET', newSecret);
  keep('GRAFANA_ADMIN_PASSWORD', newSecret);
  const metricsToken = keep('MINICLOUD_METRICS_BEARER_TOKEN', newSecret);
  // rebuilt from the per-service passwords each time, so the two never disagree
  env.MINICLOUD_SERVICE_ACCOUNTS = composeServiceAccounts((account) => keep(composeAccountPasswordVar(account), newSecret));
  const users = composeUsers((user) => keep(composePasswordVar(user), newSecret));
  const dir = path.join(deploy, 'secrets');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (file: string, text: string, mode = 0o600) => {
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
  };
  // Prometheus reads the token as user nobody inside its container, from the ./prometheus mount:
  // readable by all (it grants scraping /metrics only), in a git-ignored directory.
  const promSecrets = path.join(deploy, 'prometheus', 'secrets');
  fs.mkdirSync(promSecrets, { recursive: true, mode: 0o755 });
  write(path.join(promSecrets, 'metrics-token'), metricsToken, 0o644);
  write(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  write(path.join(dir, 'redis-users.acl'), redisAclFile(users));
  write(path.join(dir, 'nats.conf'), natsServerConfig(users));
  console.log(`compose secrets: ${envFile}, ${dir}/redis-users.acl, ${dir}/nats.conf (mode 0600), ${promSecrets}/metrics-token${rotate ? ' (rotated: restart every container)' : ''}`);
}

if (require.main === module) main();
