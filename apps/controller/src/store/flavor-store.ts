import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NotFoundError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import { type FlavorRecord, validateFlavorInput, type FlavorInput, readFlavorResourceControls } from '@minicloud/domain-compute';
import { Keys } from './keys';

/**
 * Flavors in Redis: `flavor:<id>` (JSON), `flavor_name:<name>` -> id (uniqueness via SET NX),
 * `flavors` (set of ids).
 */
export class FlavorStore {
  constructor(private readonly redis: Redis) {}

  /**
   * @throws InvalidArgumentError naming the field or a malformed `quota:*` extra spec; AlreadyExistsError for a taken name or id
   */
  async create(input: FlavorInput & { id?: string; isPublic: boolean; extraSpecs: Record<string, string> }): Promise<FlavorRecord> {
    validateFlavorInput(input);
    readFlavorResourceControls(input.extraSpecs, input.vcpus);
    const flavor: FlavorRecord = {
      id: input.id?.trim() || randomUUID(),
      name: input.name.trim(),
      vcpus: input.vcpus,
      ramMb: input.ramMb,
      diskGb: input.diskGb,
      ephemeralGb: input.ephemeralGb,
      swapMb: input.swapMb,
      isPublic: input.isPublic,
      extraSpecs: { ...input.extraSpecs },
    };
    const claimed = await this.redis.set(Keys.flavorByName(flavor.name), flavor.id, 'NX');
    if (claimed !== 'OK') throw new AlreadyExistsError('flavor', flavor.name);
    const created = await this.redis.set(Keys.flavor(flavor.id), JSON.stringify(flavor), 'NX');
    if (created !== 'OK') {
      await this.redis.del(Keys.flavorByName(flavor.name));
      throw new AlreadyExistsError('flavor', flavor.id);
    }
    await this.redis.sadd(Keys.flavors(), flavor.id);
    return flavor;
  }

  /** By id, else by name. @throws NotFoundError('flavor', ref) */
  async get(ref: string): Promise<FlavorRecord> {
    const found = await this.find(ref);
    if (!found) throw new NotFoundError('flavor', ref);
    return found;
  }

  async find(ref: string): Promise<FlavorRecord | undefined> {
    if (!ref) return undefined;
    let raw = await this.redis.get(Keys.flavor(ref));
    if (!raw) {
      const id = await this.redis.get(Keys.flavorByName(ref));
      if (id) raw = await this.redis.get(Keys.flavor(id));
    }
    return raw ? (JSON.parse(raw) as FlavorRecord) : undefined;
  }

  /** Sorted by vcpus, ram, name (as `openstack flavor list`). */
  async list(): Promise<FlavorRecord[]> {
    const ids = await this.redis.smembers(Keys.flavors());
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => Keys.flavor(id)));
    return raws
      .filter((r): r is string => !!r)
      .map((r) => JSON.parse(r) as FlavorRecord)
      .sort((a, b) => a.vcpus - b.vcpus || a.ramMb - b.ramMb || a.name.localeCompare(b.name));
  }

  /** Instances keep their own copy of the flavor, so deleting is always allowed (as Nova). @throws NotFoundError */
  async delete(id: string): Promise<void> {
    const flavor = await this.get(id);
    await this.redis.multi().del(Keys.flavor(flavor.id)).del(Keys.flavorByName(flavor.name)).srem(Keys.flavors(), flavor.id).exec();
  }

  /** Sets then unsets extra specs. @throws NotFoundError; InvalidArgumentError naming a malformed `quota:*` extra spec */
  async setExtraSpecs(id: string, set: Record<string, string>, unset: string[]): Promise<FlavorRecord> {
    const flavor = await this.get(id);
    const extraSpecs = { ...flavor.extraSpecs, ...set };
    for (const key of unset) delete extraSpecs[key];
    readFlavorResourceControls(extraSpecs, flavor.vcpus);
    const next = { ...flavor, extraSpecs };
    await this.redis.set(Keys.flavor(flavor.id), JSON.stringify(next));
    return next;
  }
}
