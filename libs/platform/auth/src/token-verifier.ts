import { decodeProtectedHeader, importJWK, jwtVerify, errors as joseErrors, type JWK, type KeyLike } from 'jose';
import { UnauthenticatedError, UnavailableError } from '@minicloud/domain-errors';
import type { AuthContext } from './auth-context';
import { TOKEN_ALG, TOKEN_ISSUER } from './token-signer';

/**
 * Where a verifier gets identity's public keys (GetPublicKeys over gRPC in services). `notAfterMs`
 * (retired keys): the time after which no token the key signed can still be valid (its retirement
 * plus the max token lifetime); the verifier drops the key then.
 */
export type PublicKeySource = () => Promise<{ kid: string; jwk: JWK; notAfterMs?: number }[]>;

/**
 * Revoked tokens known to this process, fed by identity's `token.revoked` events: single token ids,
 * and per-user "every token issued before T" (user disabled, role removed).
 */
export class RevocationList {
  private readonly tokens = new Map<string, number>();
  private readonly usersBefore = new Map<string, number>();

  /** Revokes one token id until `expiresAtMs` (after which it is refused anyway). */
  revokeToken(tokenId: string, expiresAtMs: number): void {
    this.tokens.set(tokenId, expiresAtMs);
  }

  /** Revokes every token of `userId` issued at or before `beforeMs`. */
  revokeUserBefore(userId: string, beforeMs: number): void {
    this.usersBefore.set(userId, Math.max(beforeMs, this.usersBefore.get(userId) ?? 0));
  }

  isRevoked(ctx: Pick<AuthContext, 'tokenId' | 'userId' | 'issuedAtMs'>): boolean {
    if (this.tokens.has(ctx.tokenId)) return true;
    const before = this.usersBefore.get(ctx.userId);
    return before !== undefined && ctx.issuedAtMs <= before;
  }

  /** Drops entries of tokens that have expired by `nowMs`. */
  prune(nowMs: number): void {
    for (const [id, exp] of this.tokens) if (exp < nowMs) this.tokens.delete(id);
  }
}

/** Verifies bearer tokens locally with identity's public keys. */
export interface TokenVerifier {
  /** @throws UnauthenticatedError for a malformed, badly signed, expired or revoked token */
  verify(token: string): Promise<AuthContext>;
}

/**
 * A verifier with a key cache: an unknown `kid` triggers one refetch (key rotation: a new key is
 * fetched at its first use, however recent the last fetch). A fetch that did not find the wanted
 * kid is not repeated for `minRefetchIntervalMs` (default 1000), so a flood of forged kids costs one
 * fetch a second. Expiry is checked against the injected clock. A retired key (with `notAfterMs`) is
 * dropped once that time has passed, and never verifies a token expiring after it. A token whose
 * signature verified is remembered (up to `maxVerifiedTokens`), so its next calls cost no signature
 * check; expiry, key retirement and revocation are still checked on each.
 */
export function createTokenVerifier(opts: {
  keys: PublicKeySource;
  revocations: RevocationList;
  nowMs: () => number;
  minRefetchIntervalMs?: number;
  /** Verified tokens remembered (the oldest forgotten first; default 10,000). */
  maxVerifiedTokens?: number;
}): TokenVerifier {
  const cache = new Map<string, { key: KeyLike | Uint8Array; notAfterMs?: number }>();
  let lastMissMs = -Infinity;
  let inflight: Promise<void> | undefined;
  // Concurrent verifications of a token with a new kid share one fetch; a fetch that did not find a
  // kid is not repeated for minRefetchIntervalMs (a flood of forged kids costs one fetch a second).
  const refetch = async (wanted: string) => {
    if (inflight) return inflight;
    if (opts.nowMs() - lastMissMs < (opts.minRefetchIntervalMs ?? 1000)) return;
    inflight = (async () => {
      try {
        const fetched = await opts.keys();
        // identity no longer publishes a key once its tokens have all expired: forget it too
        for (const kid of cache.keys()) if (!fetched.some((k) => k.kid === kid)) cache.delete(kid);
        for (const { kid, jwk, notAfterMs } of fetched) {
          const hit = cache.get(kid);
          if (hit) hit.notAfterMs = notAfterMs;
          else cache.set(kid, { key: await importJWK(jwk, TOKEN_ALG), notAfterMs });
        }
        if (!cache.has(wanted)) lastMissMs = opts.nowMs();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };
  // Tokens whose signature and claims verified, by their exact text (keystonemiddleware's token
  // cache): a service sees the same token on call after call, and the signature check is most of
  // the CPU of a small call. Expiry, the key's retirement and revocation are checked on every call.
  const verified = new Map<string, { key: KeyLike | Uint8Array; ctx: AuthContext }>();
  const maxVerified = opts.maxVerifiedTokens ?? 10_000;
  const accept = (ctx: AuthContext, entry: { notAfterMs?: number }): AuthContext => {
    if (ctx.expiresAtMs <= opts.nowMs()) throw new UnauthenticatedError('token expired');
    // a retired key signed nothing that outlives notAfter: a later expiry means a key that leaked
    if (entry.notAfterMs !== undefined && ctx.expiresAtMs > entry.notAfterMs) throw new UnauthenticatedError('token outlives its retired key');
    if (opts.revocations.isRevoked(ctx)) throw new UnauthenticatedError('token revoked');
    return { ...ctx, roles: [...ctx.roles], ...(ctx.hostIds ? { hostIds: [...ctx.hostIds] } : {}) };
  };
  return {
    async verify(token: string): Promise<AuthContext> {
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        throw new UnauthenticatedError('malformed token');
      }
      if (!kid) throw new UnauthenticatedError('token has no key id');
      if (!cache.has(kid)) {
        try {
          await refetch(kid);
        } catch {
          throw new UnavailableError('cannot fetch the token signing keys from identity');
        }
      }
      const entry = cache.get(kid);
      if (!entry) throw new UnauthenticatedError('token signed by an unknown key');
      if (entry.notAfterMs !== undefined && entry.notAfterMs < opts.nowMs()) {
        // every token the key signed has expired (none outlives notAfter): forget the key
        cache.delete(kid);
        throw new UnauthenticatedError('token expired (its signing key is retired)');
      }
      const key = entry.key;
      const known = verified.get(token);
      if (known && known.key === key) return accept(known.ctx, entry);
      let payload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          issuer: TOKEN_ISSUER,
          algorithms: [TOKEN_ALG],
          currentDate: new Date(opts.nowMs()),
        }));
      } catch (e) {
        if (e instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('token expired');
        throw new UnauthenticatedError('token signature or claims invalid');
      }
      const ctx: AuthContext = {
        tokenId: String(payload.jti),
        userId: String(payload.sub),
        userName: String(payload.user_name ?? ''),
        projectId: String(payload.project_id ?? ''),
        projectName: String(payload.project_name ?? ''),
        domainId: String(payload.domain_id ?? ''),
        roles: Array.isArray(payload.roles) ? payload.roles.map(String) : [],
        issuedAtMs: (payload.iat ?? 0) * 1000,
        expiresAtMs: (payload.exp ?? 0) * 1000,
        ...(payload.instance_id ? { instanceId: String(payload.instance_id) } : {}),
        ...(payload.app_cred_id ? { applicationCredentialId: String(payload.app_cred_id) } : {}),
        ...(Array.isArray(payload.host_ids) ? { hostIds: payload.host_ids.map(String) } : {}),
        ...(payload.system === 'all' ? { systemScope: 'all' as const } : {}),
        ...(payload.is_admin_project === true ? { isAdminProject: true } : {}),
      };
      const accepted = accept(ctx, entry);
      if (verified.size >= maxVerified) verified.delete(verified.keys().next().value!);
      verified.set(token, { key, ctx });
      return accepted;
    },
  };
}
