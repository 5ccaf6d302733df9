import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { QOS_CONSUMERS, validateQosSpecs, type QosConsumer } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import type { QosSpecsRecord, VolumeTypeRecord } from './records';
import { keys } from './store/keys';
import type { VolumeTypes } from './volume-types';

/** Longest name, key and value of a QoS specs (Cinder's column sizes), and the most keys one holds. */
const MAX_LEN = 255;
const MAX_KEYS = 64;

function consumerOf(raw: string): QosConsumer {
  if (!(QOS_CONSUMERS as readonly string[]).includes(raw)) throw new InvalidArgumentError('consumer', `must be one of ${QOS_CONSUMERS.join(', ')}`);
  return raw as QosConsumer;
}

function checkSpecs(specs: Record<string, string>): void {
  for (const [k, v] of Object.entries(specs)) {
    if (!k || k.length > MAX_LEN) throw new InvalidArgumentError('qos_specs', `key "${k.slice(0, 40)}" must be 1..${MAX_LEN} characters`);
    if (v.length > MAX_LEN) throw new InvalidArgumentError(`qos_specs.${k}`, `must be at most ${MAX_LEN} characters`);
  }
  validateQosSpecs(specs);
}

/**
 * Cinder's QoS specs: named limits (consumer front-end, back-end or both) stored in the hash
 * `mc:volume:qos_specs`, associated with volume types by the type's `qosSpecsId` (one specs per
 * type). A volume made or retyped to a type carries its front-end limits ({@link VolumeTypes.specOf}).
 * Every change runs under the types' lock, so an association never points at a deleted specs.
 */
export class QosSpecsStore {
  constructor(private readonly d: { redis: Redis; types: VolumeTypes; clock: Clock }) {}

  /**
   * @throws InvalidArgumentError('name' | 'consumer' | 'qos_specs.<key>'), AlreadyExistsError('qos_specs', name)
   */
  async create(input: { name: string; consumer: string; specs: Record<string, string> }): Promise<QosSpecsRecord> {
    const name = input.name.trim();
    if (!name || name.length > MAX_LEN) throw new InvalidArgumentError('name', `must be 1..${MAX_LEN} characters`);
    const consumer = consumerOf(input.consumer || 'back-end');
    if (Object.keys(input.specs).length > MAX_KEYS) throw new InvalidArgumentError('qos_specs', `at most ${MAX_KEYS} keys`);
    checkSpecs(input.specs);
    return this.d.types.locks.run('types', async () => {
      if ((await this.list()).some((q) => q.name === name)) throw new AlreadyExistsError('qos_specs', name);
      const rec: QosSpecsRecord = { id: randomUUID(), name, consumer, specs: { ...input.specs }, createdAtMs: this.d.clock.nowMs() };
      await this.d.redis.hset(keys.qosSpecs(), rec.id, JSON.stringify(rec));
      return rec;
    });
  }

  /** Every QoS specs, oldest first. */
  async list(): Promise<QosSpecsRecord[]> {
    const all = (await this.d.redis.hvals(keys.qosSpecs())).map((s) => JSON.parse(s) as QosSpecsRecord);
    return all.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** @throws InvalidArgumentError('qos_specs_id') when empty, NotFoundError('qos_specs', id) */
  async get(id: string): Promise<QosSpecsRecord> {
    if (!id) throw new InvalidArgumentError('qos_specs_id', 'must not be empty');
    const s = await this.d.redis.hget(keys.qosSpecs(), id);
    if (!s) throw new NotFoundError('qos_specs', id);
    return JSON.parse(s) as QosSpecsRecord;
  }

  /**
   * Sets `set` (and the consumer when given), then removes `remove` in order; as Cinder, removal
   * stops at the first key that is not set (the keys before it stay removed) and answers NOT_FOUND.
   * Volumes made afterwards carry the new limits; existing ones keep theirs (Cinder's behaviour).
   * @throws NotFoundError('qos_specs', id | 'qos_specs key', key), InvalidArgumentError('consumer' | 'qos_specs.<key>')
   */
  async update(id: string, change: { consumer?: string; set: Record<string, string>; remove: string[] }): Promise<QosSpecsRecord> {
    const consumer = change.consumer === undefined ? undefined : consumerOf(change.consumer);
    checkSpecs(change.set);
    return this.d.types.locks.run('types', async () => {
      const rec = await this.get(id);
      const specs = { ...rec.specs, ...change.set };
      if (Object.keys(specs).length > MAX_KEYS) throw new InvalidArgumentError('qos_specs', `at most ${MAX_KEYS} keys`);
      let missing: string | undefined;
      for (const key of change.remove) {
        if (!(key in specs)) {
          missing = key;
          break;
        }
        delete specs[key];
      }
      const next: QosSpecsRecord = { ...rec, consumer: consumer ?? rec.consumer, specs };
      await this.d.redis.hset(keys.qosSpecs(), id, JSON.stringify(next));
      if (missing !== undefined) throw new NotFoundError('qos specs key', missing, `QoS specs ${id} has no key ${missing}`);
      return next;
    });
  }

  /**
   * Deletes the specs; while types carry it, only with `force` (which disassociates them first).
   * @throws NotFoundError('qos_specs', id), FailedPreconditionError (reason qos_specs_in_use)
   */
  async delete(id: string, force: boolean): Promise<void> {
    await this.d.types.locks.run('types', async () => {
      await this.get(id);
      const carriers = await this.associations(id);
      if (carriers.length > 0 && !force) throw new FailedPreconditionError(`QoS specs ${id} is still associated with ${carriers.length} volume type(s)`, 'qos_specs_in_use');
      for (const t of carriers) await this.d.types.save({ ...t, qosSpecsId: '' });
      await this.d.redis.hdel(keys.qosSpecs(), id);
    });
  }

  /**
   * Associates the specs with a type; the same pair again changes nothing.
   * @throws NotFoundError('qos_specs' | 'volume_type'), FailedPreconditionError (reason type_has_qos_specs)
   *   when the type carries other specs
   */
  async associate(id: string, typeId: string): Promise<void> {
    await this.d.types.locks.run('types', async () => {
      await this.get(id);
      const t = await this.d.types.getById(typeId);
      if (t.qosSpecsId === id) return;
      if (t.qosSpecsId) throw new FailedPreconditionError(`volume type ${typeId} is already associated with another QoS specs: ${t.qosSpecsId}`, 'type_has_qos_specs');
      await this.d.types.save({ ...t, qosSpecsId: id });
    });
  }

  /**
   * Disassociates the specs from one type, or from every type (`typeId` undefined); idempotent.
   * @throws NotFoundError('qos_specs' | 'volume_type')
   */
  async disassociate(id: string, typeId: string | undefined): Promise<void> {
    await this.d.types.locks.run('types', async () => {
      await this.get(id);
      const targets = typeId === undefined ? await this.associations(id) : [await this.d.types.getById(typeId)];
      for (const t of targets) if (t.qosSpecsId === id) await this.d.types.save({ ...t, qosSpecsId: '' });
    });
  }

  /** The types carrying the specs, by name. @throws NotFoundError('qos_specs', id) via callers' get */
  async associations(id: string): Promise<VolumeTypeRecord[]> {
    return (await this.d.types.list()).filter((t) => t.qosSpecsId === id);
  }
}
