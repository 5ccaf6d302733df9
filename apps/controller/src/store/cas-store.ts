import { ConflictError } from '@minicloud/domain-errors';
import { defineLuaScript, type LuaScript, type Redis } from '@minicloud/platform-state';

// KEYS[1]=record; ARGV[1]=expected JSON, ARGV[2]=new JSON. Compare-and-set on the whole record.
const CAS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/**
 * Base of the stores that keep each record as one JSON value: the one optimistic read-modify-write
 * (compare-and-set in Lua against the exact JSON read), so concurrent replicas never lose an update.
 */
export abstract class CasStore {
  private readonly cas: LuaScript;

  constructor(protected readonly redis: Redis) {
    this.cas = defineLuaScript(redis, CAS);
  }

  /**
   * Reads the record at `key`, applies `mutate` (undefined = leave it) and writes it back if nobody
   * wrote in between, else retries on the fresh value.
   * @returns the stored record (new, or as read when `mutate` left it), undefined when `key` is absent
   * @throws ConflictError (ABORTED, "<what>: too many concurrent updates") after `attempts` lost races
   */
  protected async casUpdate<T>(key: string, mutate: (cur: T) => T | undefined, what: string, attempts = 50): Promise<T | undefined> {
    for (let i = 0; i < attempts; i++) {
      const raw = await this.redis.get(key);
      if (!raw) return undefined;
      const cur = JSON.parse(raw) as T;
      const next = mutate(structuredClone(cur));
      if (next === undefined) return cur;
      if (Number(await this.cas([key], [raw, JSON.stringify(next)])) === 1) return next;
    }
    throw new ConflictError(`${what}: too many concurrent updates`);
  }
}
