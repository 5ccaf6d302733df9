import { ftRequestedByFlavor } from '@minicloud/domain-ft';
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import { type FlavorRecord, validateFlavorInput, type FlavorInput, readFlavorResourceControls } from '@minicloud/domain-compute';
import { Keys } from './keys';

/** Nova's flavor id pattern (flavor_manage schema): letters, digits, '.', '_', '-' and spaces, none at either end. */
const FLAVOR_ID = /^(?! )[a-zA-Z0-9. _-]{1,255}(?<! )$/;

/**
 * Flavors in Redis: `flavor:<id>` (JSON), `flavor_name:<name>` -> id (uniqueness via SET NX),
 * `flavors` (set of ids), `flavor:<id>:projects` (set of the project ids granted a private flavor,
 * Nova's flavor access).
 */
export class FlavorStore {
  constructor(private readonly redis: Redis) {}

  /**
   * @throws InvalidArgumentError naming the field or a malformed `quota:*` extra spec; AlreadyExistsError for a taken name or id
   */
  async create(input: FlavorInput & { id?: string; isPublic: boolean; extraSpecs: Record<string, string> }): Promise<FlavorRecord> {
    validateFlavorInput(input);
    if (input.id && !FLAVOR_ID.test(input.id)) throw new InvalidArgumentError('id', 'must be 1..255 letters, digits, ".", "_", "-" or inner spaces');
    readFlavorResourceControls(input.extraSpecs, input.vcpus);
    ftRequestedByFlavor(input.extraSpecs);
    const flavor: FlavorRecord = {
      id: input.id || randomUUID(),
      name: input.name.trim(),
      vcpus: input.vcpus,
      ramMb: input.ramMb,
      diskGb: input.diskGb,
      ephemeralGb: input.ephemeralGb,
      swapMb: input.swapMb,
      isPublic: input.isPublic,
      extraSpecs: { ...input.extraSpecs },
      rxtxFactor: input.rxtxFactor ?? 1,
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
    await this.redis.multi().del(Keys.flavor(flavor.id)).del(Keys.flavorByName(flavor.name)).srem(Keys.flavors(), flavor.id).del(Keys.flavorProjects(flavor.id)).exec();
  }

  /** The project ids granted the flavor, sorted (empty for a public flavor). @throws NotFoundError */
  async accessList(id: string): Promise<string[]> {
    const flavor = await this.get(id);
    return (await this.redis.smembers(Keys.flavorProjects(flavor.id))).sort();
  }

  /** Whether `projectId` was granted the flavor (Nova's flavor access; says nothing of public flavors). */
  async hasAccess(flavorId: string, projectId: string): Promise<boolean> {
    return !!projectId && (await this.redis.sismember(Keys.flavorProjects(flavorId), projectId)) === 1;
  }

  /** Flavor ids granted to `projectId` among `ids`. */
  async grantedAmong(ids: readonly string[], projectId: string): Promise<Set<string>> {
    if (!projectId || ids.length === 0) return new Set();
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.sismember(Keys.flavorProjects(id), projectId);
    const res = (await pipe.exec()) ?? [];
    return new Set(ids.filter((_, i) => res[i]?.[1] === 1));
  }

  /**
   * Grants a private flavor to a project.
   * @returns the project ids granted, sorted
   * @throws NotFoundError; FailedPreconditionError `flavor_is_public` for a public flavor; AlreadyExistsError('flavor_access') when already granted
   */
  async addAccess(id: string, projectId: string): Promise<string[]> {
    if (!projectId) throw new InvalidArgumentError('project_id', 'is required');
    if (projectId.length > 255) throw new InvalidArgumentError('project_id', 'must be at most 255 characters');
    const flavor = await this.get(id);
    if (flavor.isPublic) throw new FailedPreconditionError(`flavor ${flavor.id} is public: access lists are for private flavors`, 'flavor_is_public');
    const added = await this.redis.sadd(Keys.flavorProjects(flavor.id), projectId);
    if (added === 0) throw new AlreadyExistsError('flavor access', `for flavor ${flavor.id} and project ${projectId}`);
    return this.accessList(flavor.id);
  }

  /**
   * Revokes a project's access to a flavor.
   * @returns the project ids still granted, sorted
   * @throws NotFoundError for an unknown flavor or a project not granted it
   */
  async removeAccess(id: string, projectId: string): Promise<string[]> {
    const flavor = await this.get(id);
    const removed = await this.redis.srem(Keys.flavorProjects(flavor.id), projectId);
    if (removed === 0) throw new NotFoundError('flavor_access', `${flavor.id}/${projectId}`, `project ${projectId} has no access to flavor ${flavor.id}`);
    return this.accessList(flavor.id);
  }

  /** Sets then unsets extra specs. @throws NotFoundError; InvalidArgumentError naming a malformed `quota:*` extra spec */
  async setExtraSpecs(id: string, set: Record<string, string>, unset: string[]): Promise<FlavorRecord> {
    const flavor = await this.get(id);
    const extraSpecs = { ...flavor.extraSpecs, ...set };
    for (const key of unset) delete extraSpecs[key];
    readFlavorResourceControls(extraSpecs, flavor.vcpus);
    ftRequestedByFlavor(extraSpecs);
    const next = { ...flavor, extraSpecs };
    await this.redis.set(Keys.flavor(flavor.id), JSON.stringify(next));
    return next;
  }
}
