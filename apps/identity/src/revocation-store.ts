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
    await this.redis
      .multi()
      .set(this.key('revoked:token', tokenId), '1', 'PX', ttlMs)
      .zadd(this.key('revoked:tokens'), expiresAtMs, tokenId)
      .exec();
    this.list.revokeToken(tokenId, expiresAtMs);
  }

  /** Voids every token of the user issued at or before `beforeMs`. */
  async revokeUserBefore(userId: string, beforeMs: number): Promise<void> {
    const k = this.key('revoked:user', userId);
    const prev = Number((await this.redis.get(k)) ?? 0);
    await this.redis
      .multi()
      .set(k, String(Math.max(prev, beforeMs)), 'EX', this.opts.maxTokenTtlSeconds)
      .zadd(this.key('revoked:users'), 'GT', beforeMs, userId)
      .exec();
    this.list.revokeUserBefore(userId, beforeMs);
  }

  /**
   * Revocations still in force, for services that start or restart (ListRevocations): token ids
   * with their expiry (ms) not yet past, and per-user cut-offs (ms) younger than the max token TTL
   * (older ones void nothing a token could still carry). Drops the entries that no longer matter
   * from the indexes `mc:identity:revoked:tokens` / `revoked:users` (sorted sets).
   */
  async listInForce(): Promise<{ tokens: { tokenId: string; expiresAtMs: number }[]; users: { userId: string; beforeMs: number }[] }> {
    const now = this.opts.nowMs();
    const oldestUserCutoff = now - this.opts.maxTokenTtlSeconds * 1000;
    const [, , tokenRows, userRows] = ((await this.redis
      .multi()
      .zremrangebyscore(this.key('revoked:tokens'), '-inf', `(${now}`)
      .zremrangebyscore(this.key('revoked:users'), '-inf', `(${oldestUserCutoff}`)
      .zrange(this.key('revoked:tokens'), 0, -1, 'WITHSCORES')
      .zrange(this.key('revoked:users'), 0, -1, 'WITHSCORES')
      .exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v as string[];
    });
    const pairs = (rows: string[]) => Array.from({ length: rows.length / 2 }, (_, i) => [rows[2 * i], Number(rows[2 * i + 1])] as const);
    return {
      tokens: pairs(tokenRows).map(([tokenId, expiresAtMs]) => ({ tokenId, expiresAtMs })),
      users: pairs(userRows).map(([userId, beforeMs]) => ({ userId, beforeMs })),
    };
  }

  async isRevoked(ctx: Pick<AuthContext, 'tokenId' | 'userId' | 'issuedAtMs'>): Promise<boolean> {
    if (this.list.isRevoked(ctx)) return true;
    const [tok, before] = await this.redis.mget(this.key('revoked:token', ctx.tokenId), this.key('revoked:user', ctx.userId));
    return tok !== null || (before !== null && ctx.issuedAtMs <= Number(before));
  }
}
