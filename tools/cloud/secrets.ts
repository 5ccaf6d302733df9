import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { natsServerConfig, redisAclFile, STATEFUL_SERVICES, type InfraPrincipal, type InfraUser } from './infra-access';

/** One compute-agent process of the bring-up: its Redis/NATS user name and its hosts. */
export interface AgentPrincipal {
  name: string;
  hostIds: string[];
  tunnelIps: string[];
}

/**
 * Every secret of one local cloud, generated at bring-up (never a default): the `admin` and `demo`
 * users' passwords, the shared service user's password (seeded, used by none of the bring-up's
 * processes), each service's and agent's own identity password, the key sealing identity's signing keys, and a Redis and NATS password per user of
 * {@link InfraUser} (the operator, each stateful service, each agent process).
 */
export interface CloudSecrets {
  admin_password: string;
  /** The demo project's user `demo`. */
  demo_password: string;
  service_password: string;
  /** 32 random bytes (base64url): identity seals its signing private keys with it (SIGNING_KEY_ENCRYPTION_KEY). */
  signing_key_encryption_key: string;
  /** Nova's metadata_proxy_shared_secret: the agents sign metadata requests with it, the controllers check them (METADATA_PROXY_SHARED_SECRET). */
  metadata_proxy_secret: string;
  /** METRICS_BEARER_TOKEN of every process: Prometheus scrapes /metrics with it (also in the file {@link SecretFiles.metricsToken}). */
  metrics_bearer_token: string;
  /** user name -> password, the same on Redis and NATS. */
  infra: Record<string, string>;
  /** identity user name -> password: each service's (`svc-<app>`) and each agent's (`agent-<n>`) own login. */
  accounts: Record<string, string>;
}

/** The identity user a process of `app` logs in as: `svc-<app>` for a service, the agent's own name for an agent. */
export function accountNameOf(app: string, agentName?: string): string {
  return agentName ?? `svc-${app}`;
}

/** The files the bring-up writes under `<state-dir>/secrets` (directory 0700, files 0600). */
export interface SecretFiles {
  dir: string;
  /** {@link CloudSecrets} as JSON. */
  secrets: string;
  /** Redis `aclfile`. */
  redisAcl: string;
  /** nats-server configuration (users and permissions). */
  natsConf: string;
  /** The metrics bearer token alone (Prometheus' scrape `credentials_file`). */
  metricsToken: string;
}

/** A random secret: 24 bytes, base64url (32 characters; safe in URLs, YAML and env files). */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** The Redis/NATS users of a cloud with these agents, with passwords from `infra` (new ones where missing). */
export function infraUsers(infra: Record<string, string>, agents: AgentPrincipal[]): InfraUser[] {
  const principals: [string, InfraPrincipal][] = [
    ['operator', { kind: 'operator' }],
    ...STATEFUL_SERVICES.map((service): [string, InfraPrincipal] => [service, { kind: 'service', service }]),
    ...agents.map((a): [string, InfraPrincipal] => [a.name, { kind: 'agent', hostIds: a.hostIds, tunnelIps: a.tunnelIps }]),
  ];
  return principals.map(([name, principal]) => ({ name, password: (infra[name] ??= newSecret()), principal }));
}

/**
 * Generates the cloud's secrets into `<stateDir>/secrets` (or, with `keep`, reuses those of the
 * previous run, adding any missing ones), and writes the Redis ACL file and the NATS configuration
 * for `agents`. Every file is mode 0600 in a 0700 directory.
 */
export function writeCloudSecrets(stateDir: string, agents: AgentPrincipal[], opts: { keep: boolean }): { secrets: CloudSecrets; users: InfraUser[]; files: SecretFiles } {
  const dir = path.join(stateDir, 'secrets');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const files: SecretFiles = { dir, secrets: path.join(dir, 'secrets.json'), redisAcl: path.join(dir, 'redis-users.acl'), natsConf: path.join(dir, 'nats.conf'), metricsToken: path.join(dir, 'metrics-bearer-token') };
  const previous: Partial<CloudSecrets> = opts.keep && fs.existsSync(files.secrets) ? JSON.parse(fs.readFileSync(files.secrets, 'utf8')) : {};
  const secrets: CloudSecrets = {
    admin_password: previous.admin_password ?? newSecret(),
    demo_password: previous.demo_password ?? newSecret(),
    service_password: previous.service_password ?? newSecret(),
    signing_key_encryption_key: previous.signing_key_encryption_key ?? randomBytes(32).toString('base64url'),
    metadata_proxy_secret: previous.metadata_proxy_secret ?? newSecret(),
    metrics_bearer_token: previous.metrics_bearer_token ?? newSecret(),
    infra: { ...(previous.infra ?? {}) },
    accounts: { ...(previous.accounts ?? {}) },
  };
  for (const name of [...['image', 'volume', 'network', 'controller', 'elasticity', 'openstack-api'].map((app) => accountNameOf(app)), ...agents.map((a) => a.name)]) secrets.accounts[name] ??= newSecret();
  const users = infraUsers(secrets.infra, agents);
  const write = (file: string, text: string) => {
    fs.writeFileSync(file, text, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
  };
  write(files.secrets, JSON.stringify(secrets, null, 2) + '\n');
  write(files.redisAcl, redisAclFile(users));
  write(files.natsConf, natsServerConfig(users));
  write(files.metricsToken, secrets.metrics_bearer_token);
  return { secrets, users, files };
}

/** `redis://user:password@host:port` from a server URL without credentials. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString().replace(/\/$/, '');
}
