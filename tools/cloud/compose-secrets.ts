/**
 * `npm run compose:secrets`: generates the secrets of the compose deployment, once, before the first
 * `docker-compose up`: `deploy/.env` (passwords that compose puts into each container's environment)
 * and `deploy/secrets/redis-users.acl` and `deploy/secrets/nats.conf` (the users Redis and NATS
 * accept), all mode 0600. An existing `deploy/.env` is kept (its passwords are reused) unless
 * `--rotate` is given.
 *
 * Compose scales agents with `--scale`, so their host ids are not known here: the compose agents share
 * one Redis/NATS user allowed every host's subjects and keys (a local bring-up gives each agent its
 * own; see docs/security.md).
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
  const users = composeUsers((user) => keep(composePasswordVar(user), newSecret));
  const dir = path.join(deploy, 'secrets');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (file: string, text: string) => {
    fs.writeFileSync(file, text, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
  };
  write(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  write(path.join(dir, 'redis-users.acl'), redisAclFile(users));
  write(path.join(dir, 'nats.conf'), natsServerConfig(users));
  console.log(`compose secrets: ${envFile}, ${dir}/redis-users.acl, ${dir}/nats.conf (mode 0600)${rotate ? ' (rotated: restart every container)' : ''}`);
}

if (require.main === module) main();
