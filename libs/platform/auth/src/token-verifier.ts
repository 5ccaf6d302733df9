import { decodeProtectedHeader, importJWK, jwtVerify, errors as joseErrors, type JWK, type KeyLike } from 'jose';
import { UnauthenticatedError, UnavailableError } from '@minicloud/domain-errors';
import type { AuthContext } from './auth-context';
import { TOKEN_ALG, TOKEN_ISSUER } from './token-signer';

/** Where a verifier gets identity's public keys (GetPublicKeys over gRPC in services). */
export type PublicKeySource = () => Promise<{ kid: string; jwk: JWK }[]>;

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
 * fetch a second. Expiry is checked against the injected clock.
 */
export function createTokenVerifier(opts: {
  keys: PublicKeySource;
  revocations: RevocationList;
  nowMs: () => number;
  minRefetchIntervalMs?: number;
}): TokenVerifier {
  const cache = new Map<string, KeyLike | Uint8Array>();
  let lastMissMs = -Infinity;
  let inflight: Promise<void> | undefined;
  // Concurrent verifications of a token with a new kid share one fetch; a fetch that did not find a
  // kid is not repeated for minRefetchIntervalMs (a flood of forged kids costs one fetch a second).
  const refetch = async (wanted: string) => {
    if (inflight) return inflight;
    if (opts.nowMs() - lastMissMs < (opts.minRefetchIntervalMs ?? 1000)) return;
    inflight = (async () => {
      try {
        for (const { kid, jwk } of await opts.keys()) {
          if (!cache.has(kid)) cache.set(kid, await importJWK(jwk, TOKEN_ALG));
        }
        if (!cache.has(wanted)) lastMissMs = opts.nowMs();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
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
      const key = cache.get(kid);
      if (!key) throw new UnauthenticatedError('token signed by an unknown key');
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
      };
      if (opts.revocations.isRevoked(ctx)) throw new UnauthenticatedError('token revoked');
      return ctx;
    },
  };
}
