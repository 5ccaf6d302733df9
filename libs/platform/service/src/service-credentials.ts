import { endpointsOf } from '@minicloud/client';
import { identity } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { createTokenVerifier, RevocationList, type TokenVerifier } from '@minicloud/platform-auth';
import { NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';

export type IdentityClient = ServiceClient<typeof identity.IdentityServiceService>;

/**
 * A service's own identity towards the others (Nova's service user): logs in as the service user,
 * caches the token and logs in again a minute before it expires; resolves catalog endpoints.
 * The token is system-scoped (Keystone's `"system": {"all": true}`): a service acts on every
 * project, and only a system-scoped admin (or an admin of the cloud's admin project) is a cloud
 * admin. An account without a role on the system (one made before the bootstrap granted system
 * roles) falls back to a token on `projectName`.
 */
export class ServiceCredentials {
  private token?: { value: string; expiresAtMs: number };
  private catalog = new Map<string, string>();
  readonly identity: IdentityClient;

  constructor(
    identityUrl: string,
    private readonly creds: { userName: string; password: string; projectName: string },
    /** The region whose endpoints this service calls (its own REGION; absent: RegionOne); identity is shared by all. */
    readonly region?: string,
  ) {
    this.identity = createServiceClient(identity.IdentityServiceService, identityUrl, {
      idempotent: ['getPublicKeys', 'getCatalog', 'authenticate', 'validateToken', 'getQuota', 'listRevocations'],
      maxAttempts: 8,
    });
  }

  /** A valid service token (cached). */
  async getToken(): Promise<string> {
    if (this.token && this.token.expiresAtMs - Date.now() > 60_000) return this.token.value;
    const password = { userName: this.creds.userName, password: this.creds.password, domainName: 'default' };
    const res = await this.identity.authenticate({ password, systemScope: 'all' }).catch((e: unknown) => {
      if (e instanceof UnauthenticatedError && /no role on the system/.test(e.message)) return this.identity.authenticate({ password, projectName: this.creds.projectName });
      throw e;
    });
    this.token = { value: res.token, expiresAtMs: res.info?.expiresAt?.getTime() ?? Date.now() + 300_000 };
    this.learn(res.catalog);
    return res.token;
  }

  /**
   * host:port of a service type from the catalog (re-read when unknown).
   * @throws NotFoundError when the catalog has no such service
   */
  async endpoint(serviceType: string): Promise<string> {
    let url = this.catalog.get(serviceType);
    if (!url) {
      const res = await this.identity.getCatalog({});
      this.learn(res.catalog);
      url = this.catalog.get(serviceType);
    }
    if (!url) throw new NotFoundError('endpoint', serviceType, 'not in the service catalog');
    return url;
  }

  /**
   * Every host:port of a service type, read afresh from the catalog, in failover order: public ones
   * first (replicas newest registration first), then the others.
   * @throws NotFoundError when the catalog has no such service
   */
  async endpoints(serviceType: string): Promise<string[]> {
    const res = await this.identity.getCatalog({});
    this.learn(res.catalog);
    const urls = endpointsOf(res.catalog, serviceType, this.region);
    if (urls.length === 0) throw new NotFoundError('endpoint', serviceType, 'not in the service catalog');
    return urls;
  }

  /**
   * Per service type, the first endpoint of this service's region in failover order ({@link endpointsOf}:
   * public first, replicas newest first).
   */
  private learn(catalog: readonly { serviceType: string; url: string; interface: string; region: string }[]): void {
    for (const type of new Set(catalog.map((e) => e.serviceType))) {
      const url = endpointsOf(catalog, type, this.region)[0];
      if (url) this.catalog.set(type, url);
    }
  }

  close(): void {
    this.identity.close();
  }
}

/** A token verifier that fetches identity's public keys over gRPC; `nowMs` (default wall clock) checks expiry. */
export function remoteTokenVerifier(client: IdentityClient, revocations: RevocationList, nowMs: () => number = () => Date.now()): TokenVerifier {
  return createTokenVerifier({
    keys: async () => (await client.getPublicKeys({})).keys.map((k) => ({ kid: k.kid, jwk: JSON.parse(k.jwkJson), notAfterMs: k.notAfter?.getTime() })),
    revocations,
    nowMs,
  });
}
