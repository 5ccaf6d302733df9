import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createServiceClient } from '@minicloud/platform-grpc';
import { compute, identity, image, network, volume } from '@minicloud/proto';
import { MinicloudError } from '@minicloud/domain-errors';
import { CliError, type ServiceLocation } from './errors';
import type { CliIo, CloudClients, ConnectFn, ServiceType } from './io';

/** Identity endpoint used when neither --url nor MINICLOUD_URL is given (the bring-up's default port). */
export const DEFAULT_IDENTITY_URL = '127.0.0.1:5000';

/** What `login` stores in `<config dir>/credentials.json` (mode 0600). Keys are snake_case. */
export interface StoredCredentials {
  /** Identity endpoint, host:port. */
  url: string;
  token: string;
  /** ISO-8601 expiry of `token`. */
  expires_at: string;
  user_id: string;
  user_name: string;
  project_id: string;
  project_name: string;
  roles: string[];
  catalog: { service_type: string; url: string; interface: string; region: string }[];
}

/** Password login parameters (the OS_* equivalents: MINICLOUD_URL/USER/PASSWORD/PROJECT). */
export interface LoginParams {
  url: string;
  user: string;
  password: string;
  /** Project name to scope to; empty: the user's default project. */
  project?: string;
  /** User's domain name; empty: "default". */
  domain?: string;
}

const DEFINITIONS = {
  identity: identity.IdentityServiceService,
  image: image.ImageServiceService,
  volume: volume.VolumeServiceService,
  network: network.NetworkServiceService,
  compute: compute.ComputeServiceService,
} as const;

/** The default {@link ConnectFn}: a real gRPC client from @minicloud/platform-grpc. */
export const connectGrpc: ConnectFn = (type, address, token) => createServiceClient(DEFINITIONS[type], address, { token }) as never;

/** `MINICLOUD_CONFIG_DIR`, else `~/.minicloud`. */
export function configDir(io: CliIo): string {
  return io.env.MINICLOUD_CONFIG_DIR || path.join(io.homeDir ?? os.homedir(), '.minicloud');
}

/** Path of the credentials file. */
export function credentialsPath(io: CliIo): string {
  return path.join(configDir(io), 'credentials.json');
}

/** The stored credentials, or undefined when there is no file. Throws CliError on a corrupt file. */
export function readCredentials(io: CliIo): StoredCredentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(credentialsPath(io), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${credentialsPath(io)}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as StoredCredentials;
  } catch {
    throw new CliError(`corrupt credentials file ${credentialsPath(io)}: run 'minicloud login'`);
  }
}

/** Writes the credentials file with mode 0600 (directory 0700); the token is a secret. */
export function writeCredentials(io: CliIo, creds: StoredCredentials): void {
  const dir = configDir(io);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsPath(io);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Removes the credentials file; no error when it does not exist. */
export function deleteCredentials(io: CliIo): void {
  fs.rmSync(credentialsPath(io), { force: true });
}

/** True when the token expires at or before `nowMs`. */
export function isExpired(creds: Pick<StoredCredentials, 'expires_at'>, nowMs: number): boolean {
  const t = Date.parse(creds.expires_at);
  return Number.isNaN(t) || t <= nowMs;
}

/**
 * IdentityService.Authenticate with a password; returns what to store. Errors are the server's typed
 * errors (UNAUTHENTICATED for a bad password), annotated with the identity endpoint.
 */
export async function authenticate(io: CliIo, params: LoginParams): Promise<StoredCredentials> {
  const client = (io.connect ?? connectGrpc)('identity', params.url, () => undefined);
  try {
    const res = await annotate(
      client.authenticate({
        password: { userName: params.user, password: params.password, domainName: params.domain ?? '' },
        projectName: params.project ?? '',
      }),
      { type: 'identity', address: params.url },
    );
    const info = res.info;
    return {
      url: params.url,
      token: res.token,
      expires_at: (info?.expiresAt ?? new Date(0)).toISOString(),
      user_id: info?.userId ?? '',
      user_name: info?.userName || params.user,
      project_id: info?.projectId ?? '',
      project_name: info?.projectName ?? params.project ?? '',
      roles: info?.roles ?? [],
      catalog: res.catalog.map((e) => ({ service_type: e.serviceType, url: e.url, interface: e.interface, region: e.region })),
    };
  } finally {
    client.close();
  }
}

/**
 * The logged-in state of one CLI run: credentials (logging in implicitly when MINICLOUD_USER and
 * MINICLOUD_PASSWORD are set and the token is missing or expired), and clients built lazily from the
 * catalog. Every client error carries `service` ({type, address}) so an UNAVAILABLE error can name
 * the unreachable service. Call {@link close} at the end of the run.
 */
export class Session {
  private creds?: StoredCredentials;
  private readonly clients = new Map<ServiceType, CloudClients[ServiceType]>();

  constructor(private readonly io: CliIo) {}

  /** The valid credentials; throws CliError "not logged in" / "token expired" when none can be had. */
  async credentials(): Promise<StoredCredentials> {
    if (this.creds) return this.creds;
    const now = (this.io.now ?? Date.now)();
    const stored = readCredentials(this.io);
    if (stored && !isExpired(stored, now)) return (this.creds = stored);
    const { MINICLOUD_USER: user, MINICLOUD_PASSWORD: password } = this.io.env;
    if (user && password) {
      const creds = await authenticate(this.io, {
        url: this.io.env.MINICLOUD_URL || stored?.url || DEFAULT_IDENTITY_URL,
        user,
        password,
        project: this.io.env.MINICLOUD_PROJECT || stored?.project_name,
      });
      writeCredentials(this.io, creds);
      return (this.creds = creds);
    }
    if (stored) throw new CliError("token expired: run 'minicloud login'");
    throw new CliError("not logged in: run 'minicloud login'");
  }

  /** host:port of a service from the catalog (identity falls back to the login URL). */
  async endpoint(type: ServiceType): Promise<string> {
    return (await this.endpoints(type))[0];
  }

  /**
   * Every host:port of a service from the catalog, in failover order: public endpoints first (a
   * type's replicas come newest registration first), then the others; identity falls back to the
   * login URL.
   */
  async endpoints(type: ServiceType): Promise<string[]> {
    const creds = await this.credentials();
    const entries = creds.catalog.filter((e) => e.service_type === type);
    const ordered = [...entries.filter((e) => e.interface === 'public' || !e.interface), ...entries.filter((e) => e.interface && e.interface !== 'public')];
    const urls = [...new Set(ordered.map((e) => e.url))];
    if (urls.length > 0) return urls;
    if (type === 'identity') return [creds.url];
    throw new CliError(`no ${type} endpoint in the service catalog`);
  }

  /**
   * The client of a service, created on first use with the session's token. With several catalog
   * endpoints (controller replicas) a call failing UNAVAILABLE moves to the next endpoint and is
   * retried there when that is safe: always when no connection was made (the call never reached a
   * server), and for get/list calls otherwise.
   */
  async client<K extends ServiceType>(type: K): Promise<CloudClients[K]> {
    const existing = this.clients.get(type);
    if (existing) return existing as CloudClients[K];
    const addresses = await this.endpoints(type);
    const connect = (address: string) => annotateClient((this.io.connect ?? connectGrpc)(type, address, () => this.creds?.token), { type, address });
    const wrapped = addresses.length === 1 ? connect(addresses[0]) : failoverClient(addresses, connect);
    this.clients.set(type, wrapped);
    return wrapped;
  }

  /** Forgets the cached credentials (after logout). */
  reset(): void {
    this.creds = undefined;
  }

  /** Closes every client this session created. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** True when an UNAVAILABLE error says no connection was made (the call reached no server). */
export function neverConnected(e: unknown): boolean {
  return e instanceof MinicloudError && e.code === 'UNAVAILABLE' && /No connection established|ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|connect E/i.test(e.message);
}

/** A client over several endpoints: UNAVAILABLE moves to the next one (see {@link Session.client}). */
function failoverClient<C extends { close(): void }>(addresses: readonly string[], connect: (address: string) => C): C {
  let index = 0;
  let current = connect(addresses[0]);
  const handler: ProxyHandler<C> = {
    get(_target, prop) {
      const value = Reflect.get(current, prop) as unknown;
      if (prop === 'close') return () => current.close();
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        for (;;) {
          const fn = Reflect.get(current, prop) as (...a: unknown[]) => unknown;
          try {
            return await fn.apply(current, args);
          } catch (e) {
            const safe = neverConnected(e) || (e instanceof MinicloudError && e.code === 'UNAVAILABLE' && /^(get|list)/.test(String(prop)));
            if (!safe || index + 1 >= addresses.length) throw e;
            current.close();
            index += 1;
            current = connect(addresses[index]);
          }
        }
      };
    },
  };
  return new Proxy(current, handler);
}

function annotate<T>(p: Promise<T>, where: ServiceLocation): Promise<T> {
  return p.catch((e: unknown) => {
    if (e instanceof MinicloudError) Object.assign(e, { service: where });
    throw e;
  });
}

function annotateClient<C extends object>(client: C, where: ServiceLocation): C {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise ? annotate(result, where) : result;
      };
    },
  });
}
