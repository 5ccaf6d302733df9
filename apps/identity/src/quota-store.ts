import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { defineLuaScript, type LuaScript, type Redis } from '@minicloud/platform-state';
import { DEFAULT_QUOTA_LIMITS, QUOTA_RESOURCES, effectiveLimits, isQuotaResource, quotaExceededMessage, validateDeltas, validateLimits, type QuotaResource } from './quota-math';

/** Limits and usage of one project, every resource filled in. */
export interface QuotaView {
  projectId: string;
  limits: Record<QuotaResource, number>;
  inUse: Record<QuotaResource, number>;
  reserved: Record<QuotaResource, number>;
}

/** Default and maximum reservation lifetime (Nova's `reservation_expire` is 86400; we keep it short). */
export const DEFAULT_RESERVATION_EXPIRE_SECONDS = 60;
export const MAX_RESERVATION_EXPIRE_SECONDS = 3600;

// KEYS: limits, in_use, reserved, reservation, expiry zset
// ARGV: reservation_id, project_id, expires_at_ms, n, then n x (resource, delta, default_limit)
// The rule of quota-math.firstOverrun: limit == -1 or limit >= in_use + reserved + delta, for all.
const RESERVE_LUA = `
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  local res = ARGV[5 + i * 3]
  local delta = tonumber(ARGV[6 + i * 3])
  local limit = tonumber(redis.call('HGET', KEYS[1], res) or ARGV[7 + i * 3])
  local used = tonumber(redis.call('HGET', KEYS[2], res) or '0') + tonumber(redis.call('HGET', KEYS[3], res) or '0')
  if limit >= 0 and used + delta > limit then
    return {0, res, limit, used, delta}
  end
end
for i = 0, n - 1 do
  local res = ARGV[5 + i * 3]
  local delta = tonumber(ARGV[6 + i * 3])
  redis.call('HINCRBY', KEYS[3], res, delta)
  redis.call('HSET', KEYS[4], 'd:' .. res, delta)
end
redis.call('HSET', KEYS[4], 'project_id', ARGV[2], 'expires_at_ms', ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
return {1}
`;

// KEYS: reservation, expiry zset; ARGV: reservation_id, key prefix ("mc:identity:quota:"), commit ("1") or rollback ("0")
// Returns 0 when the reservation does not exist (unknown, already finished, or expired).
const FINISH_LUA = `
local r = redis.call('HGETALL', KEYS[1])
if #r == 0 then return 0 end
local h = {}
for i = 1, #r, 2 do h[r[i]] = r[i + 1] end
local p = ARGV[2] .. h['project_id']
for f, v in pairs(h) do
  if string.sub(f, 1, 2) == 'd:' then
    local res = string.sub(f, 3)
    redis.call('HINCRBY', p .. ':reserved', res, -tonumber(v))
    if ARGV[3] == '1' then redis.call('HINCRBY', p .. ':in_use', res, tonumber(v)) end
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

// KEYS: in_use; ARGV: n, then n x (resource, delta). Never below zero.
const RELEASE_LUA = `
for i = 0, tonumber(ARGV[1]) - 1 do
  local res = ARGV[2 + i * 2]
  local v = tonumber(redis.call('HGET', KEYS[1], res) or '0') - tonumber(ARGV[3 + i * 2])
  if v < 0 then v = 0 end
  redis.call('HSET', KEYS[1], res, v)
end
return 1
`;

type Key = (...parts: (string | number)[]) => string;

/**
 * Per-project quotas in Redis (`mc:identity:quota:<project>:{limits,in_use,reserved}`), with
 * Nova-style reservations (`mc:identity:reservation:<id>`, expiry index `mc:identity:reservations:expiry`):
 * reserve (atomic, all or nothing) -> commit (reserved -> in_use) or rollback; uncommitted
 * reservations expire (swept lazily before each reserve and by a periodic sweep).
 */
export class QuotaStore {
  private readonly reserveScript: LuaScript;
  private readonly finishScript: LuaScript;
  private readonly releaseScript: LuaScript;

  constructor(private readonly redis: Redis, private readonly key: Key, private readonly nowMs: () => number) {
    this.reserveScript = defineLuaScript(redis, RESERVE_LUA);
    this.finishScript = defineLuaScript(redis, FINISH_LUA);
    this.releaseScript = defineLuaScript(redis, RELEASE_LUA);
  }

  private counts(raw: Record<string, string>): Record<QuotaResource, number> {
    return Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, Number(raw[r] ?? 0)])) as Record<QuotaResource, number>;
  }

  async get(projectId: string): Promise<QuotaView> {
    const [limits, inUse, reserved] = await Promise.all(
      ['limits', 'in_use', 'reserved'].map((k) => this.redis.hgetall(this.key('quota', projectId, k))),
    );
    const lim = Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, Number(v)]));
    return { projectId, limits: effectiveLimits(lim), inUse: this.counts(inUse), reserved: this.counts(reserved) };
  }

  /**
   * Sets some limits (others keep theirs), after returning the `reset` resources to their defaults;
   * both in one transaction.
   * @throws InvalidArgumentError naming `limits.<resource>` or `reset.<resource>`
   */
  async setLimits(projectId: string, limits: Record<string, number>, reset: readonly string[] = []): Promise<QuotaView> {
    const valid = validateLimits(limits);
    for (const r of reset) if (!isQuotaResource(r)) throw new InvalidArgumentError(`reset.${r}`, `unknown quota resource (one of ${QUOTA_RESOURCES.join(', ')})`);
    const key = this.key('quota', projectId, 'limits');
    const tx = this.redis.multi();
    if (reset.length) tx.hdel(key, ...reset);
    if (Object.keys(valid).length) tx.hset(key, valid);
    await tx.exec();
    return this.get(projectId);
  }

  /**
   * Reserves deltas for a project atomically (all or nothing).
   * @param expireSeconds 0 -> {@link DEFAULT_RESERVATION_EXPIRE_SECONDS}; at most {@link MAX_RESERVATION_EXPIRE_SECONDS}
   * @returns the reservation id
   * @throws InvalidArgumentError('deltas.<r>'|'expire_seconds'), ResourceExhaustedError("quota exceeded for <r>: limit L, in use U, requested D", reason "quota_exceeded")
   */
  async reserve(projectId: string, deltas: Record<string, number>, expireSeconds = 0): Promise<string> {
    const valid = validateDeltas(deltas);
    if (expireSeconds < 0 || expireSeconds > MAX_RESERVATION_EXPIRE_SECONDS) {
      throw new InvalidArgumentError('expire_seconds', `must be between 0 and ${MAX_RESERVATION_EXPIRE_SECONDS}`);
    }
    await this.expireDue();
    const id = randomUUID();
    const expiresAtMs = this.nowMs() + (expireSeconds || DEFAULT_RESERVATION_EXPIRE_SECONDS) * 1000;
    const entries = Object.entries(valid) as [QuotaResource, number][];
    const args: (string | number)[] = [id, projectId, expiresAtMs, entries.length];
    for (const [r, d] of entries) args.push(r, d, DEFAULT_QUOTA_LIMITS[r]);
    const res = (await this.reserveScript(
      [this.key('quota', projectId, 'limits'), this.key('quota', projectId, 'in_use'), this.key('quota', projectId, 'reserved'), this.key('reservation', id), this.key('reservations:expiry')],
      args,
    )) as [number, string?, number?, number?, number?];
    if (res[0] !== 1) {
      const [, resource, limit, inUse, requested] = res;
      throw new ResourceExhaustedError(quotaExceededMessage({ resource: String(resource), limit: Number(limit), inUse: Number(inUse), requested: Number(requested) }), 'quota_exceeded');
    }
    return id;
  }

  /** The project a live reservation belongs to. @throws NotFoundError('reservation', id) (unknown, finished or expired) */
  async reservationProject(id: string): Promise<string> {
    const h = await this.redis.hmget(this.key('reservation', id), 'project_id', 'expires_at_ms');
    if (!h[0] || Number(h[1]) < this.nowMs()) throw new NotFoundError('reservation', id);
    return h[0];
  }

  /** Moves a reservation to in_use. @throws NotFoundError('reservation', id) */
  commit(id: string): Promise<void> {
    return this.finish(id, true);
  }

  /** Drops a reservation. @throws NotFoundError('reservation', id) */
  rollback(id: string): Promise<void> {
    return this.finish(id, false);
  }

  private async finish(id: string, commit: boolean): Promise<void> {
    await this.reservationProject(id);
    const ok = await this.finishScript([this.key('reservation', id), this.key('reservations:expiry')], [id, `${this.key('quota')}:`, commit ? '1' : '0']);
    if (ok !== 1) throw new NotFoundError('reservation', id);
  }

  /** Lowers committed usage (instance deleted...), never below zero. @throws InvalidArgumentError('deltas.<r>') */
  async release(projectId: string, deltas: Record<string, number>): Promise<void> {
    const entries = Object.entries(validateDeltas(deltas));
    await this.releaseScript([this.key('quota', projectId, 'in_use')], [entries.length, ...entries.flat()]);
  }

  /** Rolls back every reservation past its expiry. @returns how many */
  async expireDue(): Promise<number> {
    const due = await this.redis.zrangebyscore(this.key('reservations:expiry'), '-inf', this.nowMs(), 'LIMIT', 0, 500);
    let n = 0;
    for (const id of due) {
      n += Number(await this.finishScript([this.key('reservation', id), this.key('reservations:expiry')], [id, `${this.key('quota')}:`, '0']));
      await this.redis.zrem(this.key('reservations:expiry'), id);
    }
    return n;
  }

  /** Forgets a deleted project's quota. */
  async drop(projectId: string): Promise<void> {
    await this.redis.del(...['limits', 'in_use', 'reserved'].map((k) => this.key('quota', projectId, k)));
  }
}
