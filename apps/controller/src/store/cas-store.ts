import { ConflictError, NotFoundError } from '@minicloud/domain-errors';
import { defineFenceableLuaScript, type FenceableLuaScript, type LeaderFence } from '@minicloud/platform-lifecycle';
import type { Redis } from '@minicloud/platform-state';

// KEYS[1]=record, KEYS[2]=counter hash; ARGV[1]=expected JSON, ARGV[2]=new JSON, ARGV[3]/ARGV[4]=the
// record's counter field before/after ('' = none). Compare-and-set on the whole record; when the
// field changes, the counter hash moves one from the old field to the new one in the same step (a
// leader write adds the leader fence: KEYS[3] lease, ARGV[5] token; -2 when refused).
const CAS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= ARGV[4] then
  if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[3], -1) end
  if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[4], 1) end
end
return 1
`;

/** Records counted by a field (e.g. instances by vm_state) in a Redis hash kept in the compare-and-set itself. */
export interface CountedBy<T> {
  /** The hash: field value -> number of records. */
  key: string;
  field: (record: T) => string;
}

/**
 * `record`, when there is one: the `get` of a store whose `find` answers undefined for an absent record.
 * @throws NotFoundError(kind, id) when `record` is undefined
 */
export function orNotFound<T>(record: T | undefined, kind: string, id: string): T {
  if (!record) throw new NotFoundError(kind, id);
  return record;
}

/**
 * Base of the stores that keep each record as one JSON value: the one optimistic read-modify-write
 * (compare-and-set in Lua against the exact JSON read), so concurrent replicas never lose an update.
 */
export abstract class CasStore {
  private readonly cas: FenceableLuaScript;

  constructor(protected readonly redis: Redis) {
    this.cas = defineFenceableLuaScript(redis, CAS, 2, 4);
  }

  /** Set by a store whose records are counted by a field: every compare-and-set keeps the counts. */
  protected countedBy?: CountedBy<never>;

  /** The record stored as JSON at `key`; undefined when absent. */
  protected async readJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.redis.get(key);
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  /**
   * Reads the record at `key`, applies `mutate` (undefined = leave it) and writes it back if nobody
   * wrote in between, else retries on the fresh value.
   * @returns the stored record (new, or as read when `mutate` left it), undefined when `key` is absent
   * @param fence a leader-only write: the compare-and-set lands only while the leader lease holds
   *   this replica's fencing token (checked in the same script)
   * @throws ConflictError (ABORTED, "<what>: too many concurrent updates") after `attempts` lost races;
   *   LeaderFenceLostError (fenced writes) when this replica no longer leads: nothing written
   */
  protected async casUpdate<T>(key: string, mutate: (cur: T) => T | undefined, what: string, attempts = 50, fence?: LeaderFence): Promise<T | undefined> {
    for (let i = 0; i < attempts; i++) {
      const raw = await this.redis.get(key);
      if (!raw) return undefined;
      const cur = JSON.parse(raw) as T;
      const next = mutate(structuredClone(cur));
      if (next === undefined) return cur;
      const c = this.countedBy as unknown as CountedBy<T> | undefined;
      const counts = c ? [c.key, c.field(cur), c.field(next)] : [key, '', ''];
      if (Number(await this.cas([key, counts[0]!], [raw, JSON.stringify(next), counts[1]!, counts[2]!], fence, what)) === 1) return next;
    }
    throw new ConflictError(`${what}: too many concurrent updates`);
  }
}
