import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { validateExtraSpecs } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import type { VolumeTypeRecord } from './records';
import { keys } from './store/keys';

/** Volume types (Cinder's types with their extra specs: QoS, replication_count, multiattach), JSON in one Redis hash keyed by name. */
export class VolumeTypes {
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
      const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs: seeded[name] ?? {}, isPublic: true };
      await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec));
    }
  }

  /**
   * @throws InvalidArgumentError('name') when empty, ('extra_specs.<key>') for a bad QoS value or
   *   replication_count, AlreadyExistsError when the name is taken
   */
  async create(name: string, extraSpecs: Record<string, string>): Promise<VolumeTypeRecord> {
    if (!name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
    validateExtraSpecs({ name, extraSpecs });
    const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs, isPublic: true };
    if (!(await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec)))) throw new AlreadyExistsError('volume_type', name);
    return rec;
  }

  /** Every type, by name. */
  async list(): Promise<VolumeTypeRecord[]> {
    const all = await this.redis.hvals(keys.types());
    return all.map((s) => JSON.parse(s) as VolumeTypeRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** @throws NotFoundError('volume_type', name) */
  async get(name: string): Promise<VolumeTypeRecord> {
    const s = await this.redis.hget(keys.types(), name);
    if (!s) throw new NotFoundError('volume_type', name);
    return JSON.parse(s) as VolumeTypeRecord;
  }

  /** The type named, or the default type when `name` is ''. @throws NotFoundError('volume_type') */
  async getOrDefault(name: string): Promise<VolumeTypeRecord> {
    return this.get(name || this.opts.defaultVolumeType);
  }
}
