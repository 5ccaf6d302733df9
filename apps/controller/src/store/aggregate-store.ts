import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import { CasStore } from './cas-store';
import { Keys } from './keys';

/** A host aggregate (Nova's os-aggregates); `availabilityZone` mirrors metadata `availability_zone`. */
export interface AggregateRecord {
  id: string;
  name: string;
  availabilityZone: string;
  hostIds: string[];
  metadata: Record<string, string>;
}

/** Metadata keys whose values must be positive numbers (allocation ratios, weight multipliers: any number). */
const RATIO_KEYS = ['cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio'];


/**
 * Host aggregates: `aggregate:<id>` (JSON, compare-and-set updates) and `aggregates` (id set).
 * Nova's rule: a host is in at most one availability zone.
 */
export class AggregateStore extends CasStore {
  constructor(redis: Redis) {
    super(redis);
  }

  /** @throws InvalidArgumentError('name'); AlreadyExistsError on a duplicate name */
  async create(name: string, availabilityZone: string): Promise<AggregateRecord> {
    if (!name.trim()) throw new InvalidArgumentError('name', 'is required');
    if ((await this.list()).some((a) => a.name === name)) throw new AlreadyExistsError('aggregate', name);
    const a: AggregateRecord = { id: randomUUID(), name, availabilityZone, hostIds: [], metadata: availabilityZone ? { availability_zone: availabilityZone } : {} };
    await this.redis.multi().set(Keys.aggregate(a.id), JSON.stringify(a)).sadd(Keys.aggregates(), a.id).exec();
    return a;
  }

  async list(): Promise<AggregateRecord[]> {
    const ids = await this.redis.smembers(Keys.aggregates());
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => Keys.aggregate(id)));
    return raws.filter((r): r is string => !!r).map((r) => JSON.parse(r) as AggregateRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By id or name. @throws NotFoundError('aggregate', ref) */
  async get(ref: string): Promise<AggregateRecord> {
    if (!ref) throw new InvalidArgumentError('aggregate_id', 'is required');
    const raw = await this.redis.get(Keys.aggregate(ref));
    if (raw) return JSON.parse(raw) as AggregateRecord;
    const byName = (await this.list()).find((a) => a.name === ref);
    if (!byName) throw new NotFoundError('aggregate', ref);
    return byName;
  }

  /** @throws FailedPreconditionError when it still has hosts (as Nova) */
  async delete(ref: string): Promise<void> {
    const a = await this.get(ref);
    if (a.hostIds.length > 0) throw new FailedPreconditionError(`aggregate ${a.name} still has hosts: ${a.hostIds.join(', ')}`, 'aggregate_not_empty');
    await this.redis.multi().del(Keys.aggregate(a.id)).srem(Keys.aggregates(), a.id).exec();
  }

  /**
   * Adds a host; idempotent.
   * @throws FailedPreconditionError reason `availability_zone_conflict` when the host is already in another AZ's aggregate
   */
  async addHost(ref: string, hostId: string): Promise<AggregateRecord> {
    if (!hostId) throw new InvalidArgumentError('host_id', 'is required');
    const a = await this.get(ref);
    if (a.availabilityZone) {
      const other = (await this.list()).find((o) => o.id !== a.id && o.availabilityZone && o.availabilityZone !== a.availabilityZone && o.hostIds.includes(hostId));
      if (other) {
        throw new FailedPreconditionError(`host ${hostId} is already in availability zone ${other.availabilityZone} (aggregate ${other.name})`, 'availability_zone_conflict');
      }
    }
    return this.update(a.id, (cur) => ({ ...cur, hostIds: [...new Set([...cur.hostIds, hostId])] }));
  }

  async removeHost(ref: string, hostId: string): Promise<AggregateRecord> {
    const a = await this.get(ref);
    if (!a.hostIds.includes(hostId)) throw new NotFoundError('host', hostId, `not in aggregate ${a.name}`);
    return this.update(a.id, (cur) => ({ ...cur, hostIds: cur.hostIds.filter((h) => h !== hostId) }));
  }

  /**
   * Sets and unsets metadata keys; `availability_zone` also sets the aggregate's AZ.
   * @throws InvalidArgumentError(`metadata.<key>`) for a non-positive allocation ratio or a non-numeric `*_weight_multiplier`
   */
  async setMetadata(ref: string, set: Record<string, string>, unset: readonly string[]): Promise<AggregateRecord> {
    for (const [k, v] of Object.entries(set)) {
      if (RATIO_KEYS.includes(k) && !(Number(v) > 0)) throw new InvalidArgumentError(`metadata.${k}`, `must be a number > 0, got '${v}'`);
      if (k.endsWith('_weight_multiplier') && (v.trim() === '' || !Number.isFinite(Number(v)))) throw new InvalidArgumentError(`metadata.${k}`, `must be a number, got '${v}'`);
    }
    const a = await this.get(ref);
    return this.update(a.id, (cur) => {
      const metadata = { ...cur.metadata, ...set };
      for (const k of unset) delete metadata[k];
      return { ...cur, metadata, availabilityZone: metadata.availability_zone ?? '' };
    });
  }

  private async update(id: string, mutate: (a: AggregateRecord) => AggregateRecord): Promise<AggregateRecord> {
    const next = await this.casUpdate<AggregateRecord>(Keys.aggregate(id), mutate, `aggregate ${id}`, 20);
    if (!next) throw new NotFoundError('aggregate', id);
    return next;
  }
}
