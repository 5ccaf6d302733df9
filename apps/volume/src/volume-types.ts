import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { validateExtraSpecs, type VolumeTypeSpec } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import { KeyedMutex } from './keyed-mutex';
import type { QosSpecsRecord, VolumeTypeRecord } from './records';
import { keys } from './store/keys';

/**
 * Volume types (Cinder's types with their extra specs: QoS, replication_count, multiattach, and an
 * associated QoS specs), JSON in one Redis hash keyed by name. Changes to a stored type (QoS
 * association, delete) run one at a time under {@link VolumeTypes.locks}.
 */
export class VolumeTypes {
  /** Serialises read-modify-write of the types hash and the QoS specs hash (key 'types'). */
  readonly locks = new KeyedMutex();

  constructor(
    private readonly redis: Redis,
    private readonly opts: {
      /** The type of a volume created without one. */
      defaultVolumeType: string;
      /** Types seeded at start: name -> extra specs (the pools' types and the default are seeded with none). */
      seedTypes: Record<string, Record<string, string>>;
      /** Types the pools serve. */
      poolTypes: string[];
    },
  ) {}

  /** Seeds the volume types the pools name, the default type and `seedTypes` (existing ones are kept). */
  async seed(): Promise<void> {
    const seeded = this.opts.seedTypes;
    const names = new Set([this.opts.defaultVolumeType, ...this.opts.poolTypes, ...Object.keys(seeded)]);
    for (const name of names) {
      const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs: seeded[name] ?? {}, isPublic: true, description: '' };
      await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec));
    }
  }

  /**
   * @throws InvalidArgumentError('name') when empty, ('extra_specs.<key>') for a bad QoS value or
   *   replication_count, AlreadyExistsError when the name is taken
   */
  async create(name: string, extraSpecs: Record<string, string>, description = ''): Promise<VolumeTypeRecord> {
    if (!name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
    validateExtraSpecs({ name, extraSpecs });
    const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs, isPublic: true, description };
    if (!(await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec)))) throw new AlreadyExistsError('volume_type', name);
    return rec;
  }

  /** Every type, by name. */
  async list(): Promise<VolumeTypeRecord[]> {
    const all = await this.redis.hvals(keys.types());
    return all.map((s) => JSON.parse(s) as VolumeTypeRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The type named `nameOrId`, else the type with that id (Cinder takes either). @throws NotFoundError('volume_type', nameOrId) */
  async get(nameOrId: string): Promise<VolumeTypeRecord> {
    const s = await this.redis.hget(keys.types(), nameOrId);
    if (s) return JSON.parse(s) as VolumeTypeRecord;
    const byId = nameOrId ? (await this.list()).find((t) => t.id === nameOrId) : undefined;
    if (!byId) throw new NotFoundError('volume_type', nameOrId);
    return byId;
  }

  /** @throws InvalidArgumentError('volume_type_id') when empty, NotFoundError('volume_type', id) */
  async getById(id: string): Promise<VolumeTypeRecord> {
    if (!id) throw new InvalidArgumentError('volume_type_id', 'must not be empty');
    const t = (await this.list()).find((x) => x.id === id);
    if (!t) throw new NotFoundError('volume_type', id);
    return t;
  }

  /** The type named, or the default type when `name` is ''. @throws NotFoundError('volume_type') */
  async getOrDefault(name: string): Promise<VolumeTypeRecord> {
    return this.get(name || this.opts.defaultVolumeType);
  }

  /**
   * What a volume of `type` is made with: its extra specs and its associated QoS specs (a specs
   * deleted meanwhile counts as none).
   */
  async specOf(type: VolumeTypeRecord): Promise<VolumeTypeSpec> {
    const raw = type.qosSpecsId ? await this.redis.hget(keys.qosSpecs(), type.qosSpecsId) : null;
    const qos = raw ? (JSON.parse(raw) as QosSpecsRecord) : undefined;
    return { name: type.name, extraSpecs: type.extraSpecs, ...(qos ? { qosSpecs: { consumer: qos.consumer, specs: qos.specs } } : {}) };
  }

  /** Writes a changed type back (callers hold `locks` 'types'). */
  async save(rec: VolumeTypeRecord): Promise<void> {
    await this.redis.hset(keys.types(), rec.name, JSON.stringify(rec));
  }

  /**
   * Changes the type with `id`: description, name, extra specs set and removed. The extra specs and
   * the name of a type volumes use stay (Cinder refuses extra-spec changes of a type in use; volumes
   * here name their type).
   * @throws NotFoundError('volume_type' | 'volume type extra spec'), AlreadyExistsError('volume_type', name),
   *   InvalidArgumentError('name' | 'extra_specs.<key>'), FailedPreconditionError (reason volume_type_in_use)
   */
  async update(id: string, change: { name?: string; description?: string; set: Record<string, string>; remove: string[] }, inUse: (name: string) => Promise<boolean>): Promise<VolumeTypeRecord> {
    if (change.name !== undefined && !change.name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
    return this.locks.run('types', async () => {
      const t = await this.getById(id);
      const renamed = change.name !== undefined && change.name !== t.name;
      const specsChange = Object.keys(change.set).length > 0 || change.remove.length > 0;
      if ((renamed || specsChange) && (await inUse(t.name))) throw new FailedPreconditionError(`volume type ${t.name} is still in use by volumes: its name and extra specs cannot change`, 'volume_type_in_use');
      const extraSpecs = { ...t.extraSpecs, ...change.set };
      for (const k of change.remove) {
        if (!(k in extraSpecs)) throw new NotFoundError('volume type extra spec', k, `volume type ${id} has no extra spec ${k}`);
        delete extraSpecs[k];
      }
      const next: VolumeTypeRecord = { ...t, name: renamed ? change.name! : t.name, description: change.description ?? t.description, extraSpecs };
      validateExtraSpecs(next);
      if (renamed) {
        if (!(await this.redis.hsetnx(keys.types(), next.name, JSON.stringify(next)))) throw new AlreadyExistsError('volume_type', next.name);
        await this.redis.hdel(keys.types(), t.name);
      } else await this.save(next);
      return next;
    });
  }

  /**
   * Deletes the type with `id` when no volume uses it (`inUse` answers from the volumes) and it is
   * not the default type; Cinder's 400 "still in use" is FAILED_PRECONDITION here.
   * @throws NotFoundError('volume_type', id), FailedPreconditionError (reason volume_type_in_use | default_volume_type)
   */
  async delete(id: string, inUse: (name: string) => Promise<boolean>): Promise<void> {
    await this.locks.run('types', async () => {
      const t = await this.getById(id);
      if (t.name === this.opts.defaultVolumeType) throw new FailedPreconditionError(`volume type ${t.name} is the default type and cannot be deleted`, 'default_volume_type');
      if (await inUse(t.name)) throw new FailedPreconditionError(`volume type ${t.name} is still in use by volumes`, 'volume_type_in_use');
      await this.redis.hdel(keys.types(), t.name);
    });
  }
}
