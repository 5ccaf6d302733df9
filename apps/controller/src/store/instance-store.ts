import { NotFoundError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import { CasStore } from './cas-store';
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

/**
 * Instances: `instance:<id>` (JSON record, updated by compare-and-set), `instances` and
 * `project:<p>:instances` (id sets), `instance:<id>:actions` (hash request id -> action JSON),
 * `reservation:<r>` (set of ids), `client_token:<p>:<t>` -> reservation id.
 */
export class InstanceStore extends CasStore {
  constructor(redis: Redis) {
    super(redis);
  }

  async createMany(records: InstanceRecord[]): Promise<void> {
    const m = this.redis.multi();
    for (const r of records) {
      m.set(Keys.instance(r.id), JSON.stringify(r));
      m.sadd(Keys.instances(), r.id);
      m.sadd(Keys.projectInstances(r.projectId), r.id);
      m.sadd(Keys.reservation(r.reservationId), r.id);
    }
    await m.exec();
  }

  async find(id: string): Promise<InstanceRecord | undefined> {
    const raw = await this.redis.get(Keys.instance(id));
    return raw ? (JSON.parse(raw) as InstanceRecord) : undefined;
  }

  /** @throws NotFoundError('server', id) */
  async get(id: string): Promise<InstanceRecord> {
    const r = await this.find(id);
    if (!r) throw new NotFoundError('server', id);
    return r;
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
   * @returns the stored record (new or unchanged), or undefined when the instance is gone
   */
  async update(id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, nowMs = Date.now()): Promise<InstanceRecord | undefined> {
    return this.casUpdate<InstanceRecord>(Keys.instance(id), (cur) => {
      const next = mutate(cur);
      return next && { ...next, updatedAtMs: nowMs };
    }, `instance ${id}`);
  }

  /** Deletes every key of the instance (record, set memberships, actions log, its client token when the reservation empties). */
  async remove(r: InstanceRecord): Promise<void> {
    const clientTokenKey = r.clientToken ? Keys.clientToken(r.projectId, r.clientToken) : undefined;
    await this.redis
      .multi()
      .del(Keys.instance(r.id), Keys.instanceActions(r.id))
      .srem(Keys.instances(), r.id)
      .srem(Keys.projectInstances(r.projectId), r.id)
      .srem(Keys.reservation(r.reservationId), r.id)
      .exec();
    if (clientTokenKey && (await this.redis.scard(Keys.reservation(r.reservationId))) === 0) await this.redis.del(clientTokenKey);
  }

  /**
   * Reserves a client token for a new reservation (SET NX, 24 h TTL).
   * @returns undefined when reserved for `reservationId`, else the reservation id already holding it
   */
  async reserveClientToken(projectId: string, token: string, reservationId: string): Promise<string | undefined> {
    const key = Keys.clientToken(projectId, token);
    const ok = await this.redis.set(key, reservationId, 'EX', 86_400, 'NX');
    if (ok === 'OK') return undefined;
    return (await this.redis.get(key)) ?? undefined;
  }

  async releaseClientToken(projectId: string, token: string): Promise<void> {
    await this.redis.del(Keys.clientToken(projectId, token));
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
