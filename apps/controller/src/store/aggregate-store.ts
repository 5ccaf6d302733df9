import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import { CasStore } from './cas-store';
import { Keys } from './keys';

/** A host aggregate (Nova's os-aggregates); `availabilityZone` mirrors metadata `availability_zone`. */
export interface AggregateRecord {
  id: string;
  /** Nova's integer aggregate id (`id` is Nova's uuid); absent in aggregates stored before it was kept. */
  numericId?: number;
  name: string;
  availabilityZone: string;
  hostIds: string[];
  metadata: Record<string, string>;
  /** Epoch ms; absent in aggregates stored before it was kept. */
  createdAtMs?: number;
  /** Epoch ms of the last change after create. */
  updatedAtMs?: number;
}

/** Nova's aggregate name and availability zone limits (aggregates schema): 1..255 characters. */
const MAX_NAME = 255;

/** Metadata keys whose values must be positive numbers (allocation ratios, weight multipliers: any number). */
const RATIO_KEYS = ['cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio'];


/**
 * Host aggregates: `aggregate:<id>` (JSON, compare-and-set updates) and `aggregates` (id set).
 * Nova's rule: a host is in at most one availability zone.
 */
export class AggregateStore extends CasStore {
  /** Called after an aggregate was created, deleted or changed (the scheduler's host-state cache). */
  onChange?: () => void;

  constructor(
    redis: Redis,
    private readonly nowMs: () => number = () => Date.now(),
  ) {
    super(redis);
  }

  /** @throws InvalidArgumentError('name' | 'availability_zone'); AlreadyExistsError on a duplicate name */
  async create(name: string, availabilityZone: string): Promise<AggregateRecord> {
    checkName('name', name, true);
    checkName('availability_zone', availabilityZone, false);
    if ((await this.list()).some((a) => a.name === name)) throw new AlreadyExistsError('aggregate', name);
    const numericId = await this.redis.incr(Keys.aggregateSequence());
    const a: AggregateRecord = {
      id: randomUUID(),
      numericId,
      name,
      availabilityZone,
      hostIds: [],
      metadata: availabilityZone ? { availability_zone: availabilityZone } : {},
      createdAtMs: this.nowMs(),
    };
    await this.redis.multi().set(Keys.aggregate(a.id), JSON.stringify(a)).sadd(Keys.aggregates(), a.id).exec();
    this.onChange?.();
    return a;
  }

  async list(): Promise<AggregateRecord[]> {
    const ids = await this.redis.smembers(Keys.aggregates());
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => Keys.aggregate(id)));
    return raws.filter((r): r is string => !!r).map((r) => JSON.parse(r) as AggregateRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By id, integer id (decimal) or name. @throws NotFoundError('aggregate', ref) */
  async get(ref: string): Promise<AggregateRecord> {
    if (!ref) throw new InvalidArgumentError('aggregate_id', 'is required');
    const raw = await this.redis.get(Keys.aggregate(ref));
    if (raw) return JSON.parse(raw) as AggregateRecord;
    const all = await this.list();
    const byName = all.find((a) => /^[0-9]+$/.test(ref) && a.numericId === Number(ref)) ?? all.find((a) => a.name === ref);
    if (!byName) throw new NotFoundError('aggregate', ref);
    return byName;
  }

  /** @throws FailedPreconditionError when it still has hosts (as Nova) */
  async delete(ref: string): Promise<void> {
    const a = await this.get(ref);
    if (a.hostIds.length > 0) throw new FailedPreconditionError(`aggregate ${a.name} still has hosts: ${a.hostIds.join(', ')}`, 'aggregate_not_empty');
    await this.redis.multi().del(Keys.aggregate(a.id)).srem(Keys.aggregates(), a.id).exec();
    this.onChange?.();
  }

  /**
   * Renames the aggregate and/or sets its availability zone ('' removes it; also its metadata key).
   * @throws InvalidArgumentError('name' | 'availability_zone'); AlreadyExistsError on a taken name;
   *   FailedPreconditionError `availability_zone_conflict` when one of its hosts is in another zone's aggregate
   */
  async rename(ref: string, change: { name?: string; availabilityZone?: string }): Promise<AggregateRecord> {
    if (change.name !== undefined) checkName('name', change.name, true);
    if (change.availabilityZone !== undefined) checkName('availability_zone', change.availabilityZone, false);
    const a = await this.get(ref);
    const all = await this.list();
    if (change.name !== undefined && all.some((o) => o.id !== a.id && o.name === change.name)) throw new AlreadyExistsError('aggregate', change.name);
    const az = change.availabilityZone;
    if (az) {
      const other = all.find((o) => o.id !== a.id && o.availabilityZone && o.availabilityZone !== az && o.hostIds.some((h) => a.hostIds.includes(h)));
      if (other) throw new FailedPreconditionError(`hosts of aggregate ${a.name} are already in availability zone ${other.availabilityZone} (aggregate ${other.name})`, 'availability_zone_conflict');
    }
    return this.update(a.id, (cur) => {
      const next = { ...cur, name: change.name ?? cur.name };
      if (az === undefined) return next;
      const metadata = { ...cur.metadata };
      if (az) metadata.availability_zone = az;
      else delete metadata.availability_zone;
      return { ...next, availabilityZone: az, metadata };
    });
  }

  /**
   * Adds a host.
   * @throws AlreadyExistsError when the host is already in the aggregate (Nova: AggregateHostExists, 409);
   *   FailedPreconditionError reason `availability_zone_conflict` when the host is already in another AZ's aggregate
   */
  async addHost(ref: string, hostId: string): Promise<AggregateRecord> {
    if (!hostId) throw new InvalidArgumentError('host_id', 'is required');
    const a = await this.get(ref);
    if (a.hostIds.includes(hostId)) throw new AlreadyExistsError('aggregate host', `${hostId} in aggregate ${a.name}`);
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
    const next = await this.casUpdate<AggregateRecord>(Keys.aggregate(id), (cur) => ({ ...mutate(cur), updatedAtMs: this.nowMs() }), `aggregate ${id}`, 20);
    this.onChange?.();
    if (!next) throw new NotFoundError('aggregate', id);
    return next;
  }
}

/** Nova's aggregate name / zone: 1..255 characters, not blank (a zone may be '' = none when not `required`). */
function checkName(field: string, v: string, required: boolean): void {
  if (!required && v === '') return;
  if (!v.trim()) throw new InvalidArgumentError(field, 'is required');
  if (v.length > MAX_NAME) throw new InvalidArgumentError(field, `must be at most ${MAX_NAME} characters`);
}
