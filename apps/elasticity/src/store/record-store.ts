import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { defineLuaScript, type LuaScript, type Redis } from '@minicloud/platform-state';
import { keys, type ResourceKind } from './keys';
import type { Versioned } from './records';

/** Writes a record only when the stored version is the expected one (0: must not exist). */
const CAS_PUT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local expected = tonumber(ARGV[2])
if cur then
  if cjson.decode(cur).version ~= expected then return 0 end
elseif expected ~= 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

/** Deletes a record only at the expected version. */
const CAS_DEL = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 1 end
if cjson.decode(cur).version ~= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

/** Who calls: a project, and whether the caller is a cloud admin (sees every project). */
export interface Caller {
  readonly projectId: string;
  readonly admin: boolean;
  /** The caller's bearer token, forwarded to the network and compute services to check what it may see. */
  readonly token?: string;
}

const MAX_ATTEMPTS = 8;

/**
 * The records of one kind in the hash `mc:elasticity:<kind>` (id -> JSON), each with a version; every
 * change is a compare-and-set (Lua), retried on conflict, so the API on any replica and the leader's
 * reconcile never lose each other's writes.
 */
export class RecordStore<T extends Versioned> {
  private readonly put: LuaScript;
  private readonly del: LuaScript;

  constructor(
    private readonly redis: Redis,
    readonly kind: ResourceKind,
  ) {
    this.put = defineLuaScript(redis, CAS_PUT);
    this.del = defineLuaScript(redis, CAS_DEL);
  }

  newId(): string {
    return randomUUID();
  }

  /** Stores a new record (version 1). @throws ConflictError when the id exists. */
  async create(rec: Omit<T, 'version'>): Promise<T> {
    const full = { ...rec, version: 1 } as T;
    if ((await this.put([keys.records(this.kind)], [full.id, 0, JSON.stringify(full)])) !== 1) throw new ConflictError(`${this.kind} ${full.id} exists`, 'conflict');
    return full;
  }

  async find(id: string): Promise<T | undefined> {
    if (!id) return undefined;
    const s = await this.redis.hget(keys.records(this.kind), id);
    return s ? (JSON.parse(s) as T) : undefined;
  }

  /**
   * The record when the caller may see it (its project's, or any for an admin).
   * @throws InvalidArgumentError(`<kind>_id`) when empty; NotFoundError(kind, id) when absent or another project's
   */
  async get(caller: Caller, id: string): Promise<T> {
    if (!id) throw new InvalidArgumentError(`${this.kind}_id`, 'must not be empty');
    const rec = await this.find(id);
    if (!rec || (!caller.admin && rec.projectId !== caller.projectId)) throw new NotFoundError(this.kind, id);
    return rec;
  }

  /** Every record (the service's scale: hundreds), optionally filtered. */
  async all(filter: (r: T) => boolean = () => true): Promise<T[]> {
    return (await this.redis.hvals(keys.records(this.kind))).map((s) => JSON.parse(s) as T).filter(filter);
  }

  /** The caller's records (every project's for an admin), filtered. */
  async list(caller: Caller, filter: (r: T) => boolean = () => true): Promise<T[]> {
    return this.all((r) => (caller.admin || r.projectId === caller.projectId) && filter(r));
  }

  /**
   * Reads, changes and writes a record with compare-and-set, retrying on a concurrent write.
   * `change` returns the new record (without version) or null to leave it as is.
   * @throws NotFoundError when the record is gone; ConflictError after repeated conflicts
   */
  async update(id: string, change: (cur: T) => Omit<T, 'version'> | null): Promise<T> {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const cur = await this.find(id);
      if (!cur) throw new NotFoundError(this.kind, id);
      const next = change(cur);
      if (next === null) return cur;
      const full = { ...next, id: cur.id, projectId: cur.projectId, version: cur.version + 1 } as T;
      if ((await this.put([keys.records(this.kind)], [id, cur.version, JSON.stringify(full)])) === 1) return full;
    }
    throw new ConflictError(`${this.kind} ${id} changed concurrently; retry`, 'conflict');
  }

  /** Deletes a record at the version read (absent: no-op). @throws ConflictError when changed meanwhile */
  async remove(rec: T): Promise<void> {
    if ((await this.del([keys.records(this.kind)], [rec.id, rec.version])) !== 1) throw new ConflictError(`${this.kind} ${rec.id} changed concurrently; retry`, 'conflict');
  }
}
