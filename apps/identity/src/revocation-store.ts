import type { AuthContext, RevocationList } from '@minicloud/platform-auth';
import type { Redis } from '@minicloud/platform-state';

type Key = (...parts: (string | number)[]) => string;

/**
 * Durable revocations (so identity refuses revoked tokens after a restart, and every replica agrees):
 * `mc:identity:revoked:token:<jti>` (expires with the token) and `mc:identity:revoked:user:<user_id>`
 * = ms before which every token of the user is void (kept for the max token TTL). Also applied to the
 * process's in-memory RevocationList at once, before the NATS event loops back.
 */
export class RevocationStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: Key,
    private readonly list: RevocationList,
    private readonly opts: { maxTokenTtlSeconds: number; nowMs: () => number },
  ) {}

  async revokeToken(tokenId: string, expiresAtMs: number): Promise<void> {
    const ttlMs = Math.max(1, expiresAtMs - this.opts.nowMs());
    await this.redis.set(this.key('revoked:token', tokenId), '1', 'PX', ttlMs);
    this.list.revokeToken(tokenId, expiresAtMs);
  }

  /** Voids every token of the user issued at or before `beforeMs`. */
  async revokeUserBefore(userId: string, beforeMs: number): Promise<void> {
    const k = this.key('revoked:user', userId);
    const prev = Number((await this.redis.get(k)) ?? 0);
    await this.redis.set(k, String(Math.max(prev, beforeMs)), 'EX', this.opts.maxTokenTtlSeconds);
    this.list.revokeUserBefore(userId, beforeMs);
  }

  async isRevoked(ctx: Pick<AuthContext, 'tokenId' | 'userId' | 'issuedAtMs'>): Promise<boolean> {
    if (this.list.isRevoked(ctx)) return true;
    const [tok, before] = await this.redis.mget(this.key('revoked:token', ctx.tokenId), this.key('revoked:user', ctx.userId));
    return tok !== null || (before !== null && ctx.issuedAtMs <= Number(before));
  }
}
