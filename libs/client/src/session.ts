import { MinicloudError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import type { CallOptions } from '@minicloud/platform-grpc';
import type { identity } from '@minicloud/proto';
import { endpointsOf, type CatalogEntry } from './catalog';
import { connectGrpc, SERVICE_DEFINITIONS, serviceClient, withCallOptions, type CloudClients, type ConnectFn, type ServiceType } from './services';

/**
 * How a session logs in (Keystone's auth methods as identity supports them): a password, an
 * application credential (its id and secret; the scope is the credential's project), or an existing
 * token (adopted as is: validated, its catalog read; it cannot be renewed, so the session ends when
 * it expires).
 */
export type AuthMethod =
  | { password: { userName: string; password: string; /** Default "default". */ domainName?: string } }
  | { applicationCredential: { id: string; secret: string } }
  | { token: string };

/**
 * The project a password login is scoped to (by id, or by name within a domain). Empty: the user's
 * default project. Identity issues project-scoped tokens only; an admin role in any project is what
 * makes calls cloud-wide (Keystone's system scope is not modelled).
 */
export interface ProjectScope {
  projectId?: string;
  projectName?: string;
  /** Domain of `projectName`; default the user's. */
  projectDomainName?: string;
}

/**
 * A token and what identity said about it: TokenInfo's user, project, domain and effective roles
 * (implied roles expanded), when it stops verifying, and the service catalog returned with it.
 */
export type TokenGrant = Pick<identity.TokenInfo, 'userId' | 'userName' | 'projectId' | 'projectName' | 'domainId' | 'roles'> & {
  token: string;
  expiresAt: Date;
  catalog: CatalogEntry[];
};

/** Options of {@link Session}. */
export interface SessionOptions {
  /** Identity endpoint(s), host:port; several are identity replicas, failed over in order. */
  authUrl: string | readonly string[];
  /** How to log in (and in again before expiry or on UNAUTHENTICATED); absent: only `grant` is used. */
  auth?: AuthMethod;
  /** Scope of a password login. */
  scope?: ProjectScope;
  /** A grant to start from (e.g. a token stored by an earlier run); used while it is valid. */
  grant?: TokenGrant;
  /** Creates service clients; default {@link connectGrpc} (tests pass fakes). */
  connect?: ConnectFn;
  /** Wall clock in ms since the epoch; default Date.now. */
  now?: () => number;
  /** A token this close to expiry (ms) is renewed before use; default 60 000. */
  refreshMarginMs?: number;
  /**
   * The region whose endpoints the clients use (Keystone's region id; `--os-region-name`); absent:
   * {@link DEFAULT_REGION} when the catalog has it (see {@link endpointsOf}). Identity is shared by every region: it is reached wherever the catalog
   * lists it, else at the auth URL.
   */
  region?: string;
  /** Called with every new grant (e.g. to store it). */
  onGrant?: (grant: TokenGrant) => void;
  /**
   * The error thrown when there is no valid token and no `auth` to get one (`expired`: a grant was
   * given but has expired). Default: UnauthenticatedError.
   */
  noCredentials?: (expired: boolean) => Error;
}

/**
 * A logged-in view of the cloud, for one user (the CLI, a service acting as itself, the REST API
 * acting for a caller): holds the token, renews it {@link SessionOptions.refreshMarginMs} before it
 * expires (a new login with `auth`), reads endpoints from the token's catalog, and builds one client
 * per service that fails over across the catalog's replicas and, when a call is refused
 * UNAUTHENTICATED (token revoked, signing key rotated), logs in again and retries it once.
 *
 * Acting for callers (a REST front): one Session per process with the service's own credentials
 * (its catalog and channels are shared), and per request `client(type, { token: callerToken,
 * requestId })`: calls carry the caller's token and request id, and are never re-authenticated.
 *
 * Errors: every client error is the service's typed error (@minicloud/domain-errors) with `service`
 * ({type, address}) attached; login errors are identity's (UNAUTHENTICATED for bad credentials).
 */
export class Session {
  private current?: TokenGrant;
  private pending?: Promise<TokenGrant>;
  private obtainedAtMs?: number;
  private readonly clients = new Map<ServiceType, CloudClients[ServiceType]>();
  private readonly connect: ConnectFn;
  private readonly now: () => number;
  private authClient?: CloudClients['identity'];

  /** The region whose endpoints this session's clients use. */
  get region(): string | undefined {
    return this.opts.region || undefined;
  }

  constructor(private readonly opts: SessionOptions) {
    this.connect = opts.connect ?? connectGrpc;
    this.now = opts.now ?? Date.now;
    this.current = opts.grant;
  }

  /**
   * A valid grant: the current one unless it expires within the refresh margin (then a new login;
   * with no `auth` the current one is used until it has expired).
   * @throws identity's error of a failed login; `noCredentials` when there is no way to get a token
   */
  async grant(): Promise<TokenGrant> {
    const cur = this.current;
    const now = this.now();
    const margin = this.opts.refreshMarginMs ?? 60_000;
    if (cur && cur.expiresAt.getTime() - now > (this.canLogIn() ? margin : 0)) return cur;
    // A token this session got within the margin is used as is: when identity's clock runs behind
    // ours it may look expired already, and logging in again would loop.
    if (cur && this.obtainedAtMs !== undefined && now - this.obtainedAtMs < margin) return cur;
    // A token method is adopted once (it cannot be renewed); passwords and secrets log in again.
    if (this.opts.auth && (this.canLogIn() || !cur)) return this.login();
    throw this.noCredentials(!!cur);
  }

  /** The bearer token of a valid grant (see {@link grant}). */
  async token(): Promise<string> {
    return (await this.grant()).token;
  }

  /**
   * Logs in now with `auth` (concurrent callers share one login) and returns the new grant.
   * @throws identity's typed error (UNAUTHENTICATED: bad password or secret, expired token); `noCredentials` without `auth`
   */
  async login(): Promise<TokenGrant> {
    if (!this.opts.auth) throw this.noCredentials(!!this.current);
    this.pending ??= this.authenticate(this.opts.auth)
      .then((g) => {
        this.current = g;
        this.obtainedAtMs = this.now();
        this.opts.onGrant?.(g);
        return g;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** The service catalog of the current grant (logging in first when needed). */
  async catalog(): Promise<CatalogEntry[]> {
    return (await this.grant()).catalog;
  }

  /**
   * Every host:port of a service from the catalog in failover order ({@link endpointsOf}); identity
   * falls back to the session's auth URL.
   * @throws NotFoundError('endpoint', type) when the catalog lists none
   */
  async endpoints(type: ServiceType): Promise<string[]> {
    const catalog = await this.catalog();
    const urls = endpointsOf(catalog, type, this.region);
    if (urls.length > 0) return urls;
    if (type === 'identity') {
      // Identity is shared by every region: wherever the catalog lists it.
      const anywhere = endpointsOf(catalog, type);
      if (anywhere.length > 0) return anywhere;
    }
    if (type === 'identity') return this.authUrls();
    throw new NotFoundError('endpoint', type, this.region ? `not in the service catalog of region ${this.region}` : 'not in the service catalog');
  }

  /**
   * The client of a service (created on first use, then cached): the session's token on every call,
   * failover across the catalog's endpoints, one re-login and retry on UNAUTHENTICATED. With
   * `callDefaults` (e.g. `{ requestId }` of the request being served) a view whose calls carry them.
   */
  client<K extends ServiceType>(type: K, callDefaults?: CallOptions): CloudClients[K] {
    let c = this.clients.get(type) as CloudClients[K] | undefined;
    if (!c) {
      c = this.reauthenticating(type, serviceClient(type, { endpoints: () => this.endpoints(type), token: () => this.current?.token, connect: this.connect }));
      this.clients.set(type, c);
    }
    return callDefaults ? withCallOptions(c, callDefaults) : c;
  }

  /** Forgets the current grant (after logout); the next call logs in again when it can. */
  reset(): void {
    this.current = undefined;
    this.obtainedAtMs = undefined;
  }

  /** Closes every client this session created. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.authClient?.close();
    this.authClient = undefined;
  }

  private canLogIn(): boolean {
    return !!this.opts.auth && !('token' in this.opts.auth);
  }

  private noCredentials(expired: boolean): Error {
    return this.opts.noCredentials?.(expired) ?? new UnauthenticatedError(expired ? 'token expired and no credentials to log in again' : 'not logged in');
  }

  private authUrls(): string[] {
    return typeof this.opts.authUrl === 'string' ? [this.opts.authUrl] : [...this.opts.authUrl];
  }

  /** Identity at the auth URL(s), for logging in: no token of the session's own. */
  private identityForLogin(token?: string): CloudClients['identity'] {
    this.authClient ??= serviceClient('identity', { endpoints: () => this.authUrls(), token: () => undefined, connect: this.connect });
    return token ? withCallOptions(this.authClient, { token }) : this.authClient;
  }

  private async authenticate(auth: AuthMethod): Promise<TokenGrant> {
    if ('token' in auth) {
      const identity = this.identityForLogin(auth.token);
      const [info, catalog] = await Promise.all([identity.validateToken({ token: auth.token }), identity.getCatalog({})]);
      return grantOf(auth.token, info.info, catalog.catalog);
    }
    const scope = this.opts.scope ?? {};
    const res = await this.identityForLogin().authenticate({
      ...('password' in auth ? { password: { ...auth.password, domainName: auth.password.domainName ?? '' } } : { applicationCredential: auth.applicationCredential }),
      projectId: scope.projectId ?? '',
      projectName: scope.projectName ?? '',
      projectDomainName: scope.projectDomainName ?? '',
    });
    return grantOf(res.token, res.info, res.catalog);
  }

  /**
   * Wraps every call: a valid grant is made sure of first (so the token is renewed before it
   * expires), and a unary call refused UNAUTHENTICATED with a way to log in gets one login and one
   * retry. Streams are not retried (their input may be consumed), nor calls made with their own token
   * (CallOptions.token).
   */
  private reauthenticating<C extends object>(type: ServiceType, client: C): C {
    const def = SERVICE_DEFINITIONS[type] as Record<string, { requestStream: boolean; responseStream: boolean }>;
    return new Proxy(client, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        const method = def[String(prop)];
        if (typeof value !== 'function' || !method) return value;
        const invoke = (args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
        if (method.responseStream) {
          const session = this;
          return (...args: unknown[]) =>
            (async function* () {
              await session.grant();
              yield* invoke(args) as AsyncIterable<unknown>;
            })();
        }
        return async (...args: unknown[]) => {
          const ownToken = (args[1] as CallOptions | undefined)?.token;
          if (!ownToken) await this.grant();
          try {
            return await invoke(args);
          } catch (e) {
            if (!(e instanceof MinicloudError) || e.code !== 'UNAUTHENTICATED' || method.requestStream || ownToken || !this.canLogIn()) throw e;
            await this.login();
            return invoke(args);
          }
        };
      },
    });
  }
}

/** A {@link TokenGrant} from identity's TokenInfo and catalog (proto shapes). */
export function grantOf(token: string, info: identity.TokenInfo | undefined, catalog: readonly CatalogEntry[]): TokenGrant {
  return {
    token,
    expiresAt: info?.expiresAt ?? new Date(0),
    userId: info?.userId ?? '',
    userName: info?.userName ?? '',
    projectId: info?.projectId ?? '',
    projectName: info?.projectName ?? '',
    domainId: info?.domainId ?? '',
    roles: info?.roles ?? [],
    catalog: catalog.map((e) => ({ serviceType: e.serviceType, url: e.url, interface: e.interface, region: e.region })),
  };
}
