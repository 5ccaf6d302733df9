import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import type { LeaderFence } from '@minicloud/platform-lifecycle';
import type { Redis } from '@minicloud/platform-state';
import { CasStore, orNotFound } from './cas-store';
import type { InstanceRecord, InstanceVolume } from '@minicloud/domain-compute';
import { Keys } from './keys';


/** One entry of the instance actions log (Nova's os-instance-actions). */
export interface InstanceActionRecord {
  requestId: string;
  action: string;
  userId: string;
  projectId: string;
  startMs: number;
  finishMs?: number;
  /** Success, Error, or '' while running. */
  result: string;
  message: string;
}

/** A client token is remembered for a day (a retry within it gets the same servers). */
const CLIENT_TOKEN_TTL_SECONDS = 86_400;
/**
 * How long a create may hold a client token before writing its servers, after which a retry may take
 * the token over (the holder is taken for dead): well above a create's own duration under load (a
 * few seconds; the clients' deadline is 30 s).
 */
export const CLIENT_TOKEN_LEASE_SECONDS = 30;

/** KEYS: token, lease; ARGV: reservation, token TTL, lease TTL. Returns the holder's reservation, or nil once reserved. */
const RESERVE_TOKEN_LUA = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
return false`;

/** KEYS: token, lease, stale reservation's set; ARGV: stale, new reservation, token TTL, lease TTL. */
const TAKE_OVER_TOKEN_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('SCARD', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
return 1`;

/** KEYS: token, lease; ARGV: reservation. */
const RELEASE_TOKEN_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

/**
 * KEYS: token, lease, instances, instances by created, then per record: record, project set, project
 * index, reservation set; ARGV: reservation, then per record: id, JSON, created-at ms.
 */
const CREATE_WITH_TOKEN_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local n = (#KEYS - 5) / 4
for i = 0, n - 1 do
  local k = 6 + i * 4
  local a = 2 + i * 4
  redis.call('SET', KEYS[k], ARGV[a + 1])
  redis.call('HINCRBY', KEYS[5], ARGV[a + 3], 1)
  redis.call('SADD', KEYS[3], ARGV[a])
  redis.call('ZADD', KEYS[4], ARGV[a + 2], ARGV[a])
  redis.call('SADD', KEYS[k + 1], ARGV[a])
  redis.call('ZADD', KEYS[k + 2], ARGV[a + 2], ARGV[a])
  redis.call('SADD', KEYS[k + 3], ARGV[a])
end
redis.call('DEL', KEYS[2])
return 1`;

/**
 * KEYS: record, actions, global id set, project id set, global and project created-at indexes,
 * reservation, counts by vm_state; ARGV: id. Deletes the instance and takes it off the count of the
 * vm_state its record holds at that moment (not the one its caller read).
 */
const REMOVE_LUA = `
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, rec = pcall(cjson.decode, raw)
  if ok and type(rec) == 'table' and type(rec.vmState) == 'string' then redis.call('HINCRBY', KEYS[8], rec.vmState, -1) end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('SREM', KEYS[7], ARGV[1])
return 1`;

/**
 * KEYS: counts by vm_state, its completeness marker, the global id set. Computes the counts from every
 * record, once (records written before the counts were kept): atomic, so no write is counted twice
 * or missed; after it, every write keeps them.
 */
const COUNT_ALL_LUA = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    local ok, rec = pcall(cjson.decode, raw)
    if ok and type(rec) == 'table' and type(rec.vmState) == 'string' then redis.call('HINCRBY', KEYS[1], rec.vmState, 1) end
  end
end
redis.call('SET', KEYS[2], '1')
return 1`;

/** KEYS: record, global index, project index; ARGV: score, id. Indexes the id only while its record exists. */
const INDEX_IF_EXISTS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
return 1`;

/**
 * Instances: `instance:<id>` (JSON record, updated by compare-and-set), `instances` and
 * `project:<p>:instances` (id sets), `instances:by_created` and `project:<p>:instances:by_created`
 * (the same ids scored by created-at ms, for paging), `instance:<id>:actions` (hash request id -> action JSON),
 * `reservation:<r>` (set of ids), `client_token:<p>:<t>` -> reservation id.
 */
export class InstanceStore extends CasStore {
  /** Set once this process has checked that the created-at index holds every instance. */
  private indexed: Promise<void> | undefined;

  /** @param opts.clientTokenLeaseSeconds the lease of a create holding a client token (default {@link CLIENT_TOKEN_LEASE_SECONDS}) */
  constructor(
    redis: Redis,
    private readonly opts: { clientTokenLeaseSeconds?: number } = {},
  ) {
    super(redis);
    this.countedBy = { key: Keys.instanceCountsByVmState(), field: (r: InstanceRecord) => r.vmState };
  }

  private counted: Promise<void> | undefined;

  /**
   * How many instances are in each vm_state (states with none left out), for the
   * minicloud_compute_instances gauge: one hash read, kept by every write of a record (create,
   * compare-and-set, delete) in the same atomic step, so it is right on every replica and across
   * restarts. The first call of a process makes sure the counts cover records written before they
   * were kept (once per cloud).
   */
  async countByVmState(): Promise<Record<string, number>> {
    this.counted ??= (async () => {
      await this.redis.eval(COUNT_ALL_LUA, 3, Keys.instanceCountsByVmState(), Keys.instanceCountsComplete(), Keys.instances(), Keys.instance(''));
    })().catch((e) => {
      this.counted = undefined;
      throw e;
    });
    await this.counted;
    const raw = await this.redis.hgetall(Keys.instanceCountsByVmState());
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]).filter(([, n]) => (n as number) > 0));
  }

  /**
   * Stores a create's records and their index entries in one step. With `clientToken`, only while
   * the token still names their reservation (a create taken over after its lease expired writes nothing).
   * @throws FailedPreconditionError('client_token_taken_over') when the token names another reservation
   */
  async createMany(records: InstanceRecord[], clientToken?: { projectId: string; token: string }): Promise<void> {
    if (clientToken && records.length > 0) {
      const r0 = records[0];
      const keys = [Keys.clientToken(clientToken.projectId, clientToken.token), Keys.clientTokenLease(clientToken.projectId, clientToken.token), Keys.instances(), Keys.instancesByCreated(), Keys.instanceCountsByVmState()];
      const args: (string | number)[] = [r0.reservationId];
      for (const r of records) {
        keys.push(Keys.instance(r.id), Keys.projectInstances(r.projectId), Keys.projectInstancesByCreated(r.projectId), Keys.reservation(r.reservationId));
        args.push(r.id, JSON.stringify(r), r.createdAtMs, r.vmState);
      }
      const ok = Number(await this.redis.eval(CREATE_WITH_TOKEN_LUA, keys.length, ...keys, ...args)) === 1;
      if (!ok) throw new FailedPreconditionError(`the client token of reservation ${r0.reservationId} was taken over by a retry`, 'client_token_taken_over');
      return;
    }
    const m = this.redis.multi();
    for (const r of records) {
      m.set(Keys.instance(r.id), JSON.stringify(r));
      m.sadd(Keys.instances(), r.id);
      m.sadd(Keys.projectInstances(r.projectId), r.id);
      m.zadd(Keys.instancesByCreated(), r.createdAtMs, r.id);
      m.zadd(Keys.projectInstancesByCreated(r.projectId), r.createdAtMs, r.id);
      m.sadd(Keys.reservation(r.reservationId), r.id);
      m.hincrby(Keys.instanceCountsByVmState(), r.vmState, 1);
    }
    await m.exec();
  }

  async find(id: string): Promise<InstanceRecord | undefined> {
    return this.readJson<InstanceRecord>(Keys.instance(id));
  }

  /** @throws NotFoundError('server', id) */
  async get(id: string): Promise<InstanceRecord> {
    return orNotFound(await this.find(id), 'server', id);
  }

  async getMany(ids: string[]): Promise<InstanceRecord[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => Keys.instance(id)));
    return raws.filter((r): r is string => !!r).map((r) => JSON.parse(r) as InstanceRecord);
  }

  /** Every instance, or a project's. */
  async list(projectId?: string): Promise<InstanceRecord[]> {
    const ids = await this.redis.smembers(projectId ? Keys.projectInstances(projectId) : Keys.instances());
    return this.getMany(ids);
  }

  /**
   * One page of every instance, or of a project's, newest first (created-at descending, then id
   * descending: Nova's default sort keys), read from the created-at index: `count` records from
   * position `start`, or from just after the instance `afterId` (Nova's marker). Costs O(log N + count),
   * not a read of every record.
   * @returns the page and whether more instances follow it
   * @throws InvalidArgumentError('marker') when `afterId` is not an instance of the listing (Nova's "marker [X] not found")
   */
  async pageByCreated(projectId: string | undefined, from: { start: number } | { afterId: string }, count: number): Promise<{ records: InstanceRecord[]; more: boolean; start: number }> {
    await this.ensureCreatedIndex();
    const key = projectId ? Keys.projectInstancesByCreated(projectId) : Keys.instancesByCreated();
    let start: number;
    if ('afterId' in from) {
      const rank = await this.redis.zrevrank(key, from.afterId);
      if (rank === null) throw new InvalidArgumentError('marker', `marker [${from.afterId}] not found`);
      start = rank + 1;
    } else start = Math.max(0, from.start);
    // One id past the page says whether another page follows.
    const ids = count > 0 ? await this.redis.zrevrange(key, start, start + count) : [];
    const more = ids.length > count;
    return { records: await this.getMany(ids.slice(0, count)), more, start };
  }

  /**
   * Adds every instance to the created-at index when it does not hold them all (instances stored
   * before the index existed); once per process. Idempotent, so replicas may run it together.
   */
  private ensureCreatedIndex(): Promise<void> {
    this.indexed ??= (async () => {
      const [indexed, all] = await Promise.all([this.redis.zcard(Keys.instancesByCreated()), this.redis.scard(Keys.instances())]);
      if (indexed === all) return;
      for (const r of await this.list()) {
        // Only while the record exists: an instance removed meanwhile must not come back into the index.
        await this.redis.eval(INDEX_IF_EXISTS_LUA, 3, Keys.instance(r.id), Keys.instancesByCreated(), Keys.projectInstancesByCreated(r.projectId), r.createdAtMs, r.id);
      }
    })().catch((e) => {
      this.indexed = undefined;
      throw e;
    });
    return this.indexed;
  }

  async reservationMembers(reservationId: string): Promise<InstanceRecord[]> {
    return this.getMany(await this.redis.smembers(Keys.reservation(reservationId)));
  }

  /**
   * Updates the first entry of the instance's `volumesAttached` that `match` accepts (read-modify-write
   * as {@link update}): the one place attach, block device mapping and the attachment resync edit an entry.
   * @returns the stored record (undefined when the instance is gone) and whether an entry matched and changed
   */
  async updateVolumeEntry(
    id: string,
    match: (v: InstanceVolume) => boolean,
    f: (v: InstanceVolume) => InstanceVolume,
    nowMs = Date.now(),
  ): Promise<{ record?: InstanceRecord; changed: boolean }> {
    let changed = false;
    const record = await this.update(
      id,
      (cur) => {
        const list = cur.volumesAttached ?? [];
        const entry = list.find(match);
        if (!entry) return undefined;
        changed = true;
        return { ...cur, volumesAttached: list.map((v) => (v === entry ? f(v) : v)) };
      },
      nowMs,
    );
    return { record, changed };
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` gets the current record and returns the
   * next one, or undefined to leave it alone; retried when another writer got in between.
   * @param fence set by the HA leader's loops: the write lands only under this replica's fencing token
   * @returns the stored record (new or unchanged), or undefined when the instance is gone
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing written
   */
  async update(id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, nowMs = Date.now(), fence?: LeaderFence): Promise<InstanceRecord | undefined> {
    return this.casUpdate<InstanceRecord>(Keys.instance(id), (cur) => {
      const next = mutate(cur);
      return next && { ...next, updatedAtMs: nowMs };
    }, `instance ${id}`, 50, fence);
  }

  /** Deletes every key of the instance (record, set memberships, actions log, its client token when the reservation empties) and takes it off the counts. */
  async remove(r: InstanceRecord): Promise<void> {
    const clientTokenKey = r.clientToken ? Keys.clientToken(r.projectId, r.clientToken) : undefined;
    await this.redis.eval(
      REMOVE_LUA,
      8,
      Keys.instance(r.id),
      Keys.instanceActions(r.id),
      Keys.instances(),
      Keys.projectInstances(r.projectId),
      Keys.instancesByCreated(),
      Keys.projectInstancesByCreated(r.projectId),
      Keys.reservation(r.reservationId),
      Keys.instanceCountsByVmState(),
      r.id,
    );
    if (clientTokenKey && (await this.redis.scard(Keys.reservation(r.reservationId))) === 0) await this.redis.del(clientTokenKey);
  }

  private get leaseSeconds(): number {
    return this.opts.clientTokenLeaseSeconds ?? CLIENT_TOKEN_LEASE_SECONDS;
  }

  /**
   * Reserves a client token for a new reservation (24 h), with a lease (default
   * {@link CLIENT_TOKEN_LEASE_SECONDS}) that says its create is still under way; both in one step.
   * @returns undefined when reserved for `reservationId`, else the reservation id already holding it
   */
  async reserveClientToken(projectId: string, token: string, reservationId: string): Promise<string | undefined> {
    const held = await this.redis.eval(RESERVE_TOKEN_LUA, 2, Keys.clientToken(projectId, token), Keys.clientTokenLease(projectId, token), reservationId, CLIENT_TOKEN_TTL_SECONDS, this.leaseSeconds);
    return held ? String(held) : undefined;
  }

  /**
   * Takes a client token over from a create that died holding it: only when it still names `stale`,
   * its lease has expired and reservation `stale` made no server. Then it names `reservationId`, with
   * a new lease. The dead create cannot write its servers afterwards ({@link createMany} checks the token).
   * @returns whether the token now belongs to `reservationId`
   */
  async takeOverClientToken(projectId: string, token: string, stale: string, reservationId: string): Promise<boolean> {
    const keys = [Keys.clientToken(projectId, token), Keys.clientTokenLease(projectId, token), Keys.reservation(stale)];
    return Number(await this.redis.eval(TAKE_OVER_TOKEN_LUA, 3, ...keys, stale, reservationId, CLIENT_TOKEN_TTL_SECONDS, this.leaseSeconds)) === 1;
  }

  /** Gives a client token up, only while it still names `reservationId` (a create that failed). */
  async releaseClientToken(projectId: string, token: string, reservationId: string): Promise<void> {
    await this.redis.eval(RELEASE_TOKEN_LUA, 2, Keys.clientToken(projectId, token), Keys.clientTokenLease(projectId, token), reservationId);
  }

  async startAction(instanceId: string, a: InstanceActionRecord): Promise<void> {
    await this.redis.hset(Keys.instanceActions(instanceId), a.requestId, JSON.stringify(a));
  }

  /** Sets finish time and result of an action; no-op when unknown or the instance is gone. */
  async finishAction(instanceId: string, requestId: string, result: 'Success' | 'Error', message: string, nowMs = Date.now()): Promise<void> {
    const raw = await this.redis.hget(Keys.instanceActions(instanceId), requestId);
    if (!raw) return;
    const a = JSON.parse(raw) as InstanceActionRecord;
    if (a.result) return;
    await this.redis.hset(Keys.instanceActions(instanceId), requestId, JSON.stringify({ ...a, finishMs: nowMs, result, message }));
  }

  /** Oldest first. */
  async listActions(instanceId: string): Promise<InstanceActionRecord[]> {
    const all = await this.redis.hvals(Keys.instanceActions(instanceId));
    return all.map((r) => JSON.parse(r) as InstanceActionRecord).sort((a, b) => a.startMs - b.startMs);
  }
}
