import { InternalError, InvalidArgumentError } from '@minicloud/domain-errors';
import { backendOf, maxProvisionedCapacityGb, type PoolState } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import type { PoolConfig } from './config';
import { keys } from './store/keys';

/**
 * The storage pools (Cinder's backends@pool): their configuration, and from Redis their provisioned
 * capacity (GB, claimed by the volume scripts) and up/down state.
 */
export class Pools {
  constructor(
    private readonly redis: Redis,
    private readonly configs: PoolConfig[],
  ) {}

  /** The pools with their provisioned capacity and up/down state read from Redis, in configuration order. */
  async list(): Promise<PoolState[]> {
    const rows = await Promise.all(this.configs.map((p) => this.redis.hmget(keys.pool(p.name), 'provisioned_gb', 'up')));
    return this.configs.map((p, i) => ({ ...this.configured(p.name), provisionedCapacityGb: Number(rows[i]![0] ?? 0), up: rows[i]![1] !== '0' }));
  }

  /** Names of the pools currently up. */
  async upNames(): Promise<Set<string>> {
    return new Set((await this.list()).filter((p) => p.up).map((p) => p.name));
  }

  /** The most a pool may have provisioned, GB (over-subscription and reserve applied). @throws InternalError for an unknown pool */
  limitOf(name: string): number {
    return maxProvisionedCapacityGb(this.configured(name));
  }

  /** Storage nodes of the configured pools. */
  storageNodes(): string[] {
    return [...new Set(this.configs.map((p) => p.storage_node))];
  }

  /**
   * Marks pools up or down: the one named, or every pool of a storage node.
   * @returns the names of the pools marked
   * @throws InvalidArgumentError('pool' | 'storage_node') when that names no configured pool
   */
  async mark(input: { pool?: string; storageNode?: string; up: boolean }): Promise<string[]> {
    const names = this.configs.filter((p) => (input.pool ? p.name === input.pool : input.storageNode ? p.storage_node === input.storageNode : false)).map((p) => p.name);
    if (names.length === 0) throw new InvalidArgumentError(input.pool ? 'pool' : 'storage_node', `no configured pool ${input.pool ?? `on node ${input.storageNode ?? ''}`}`);
    for (const n of names) await this.redis.hset(keys.pool(n), 'up', input.up ? '1' : '0');
    return names;
  }

  private configured(name: string): PoolState {
    const p = this.configs.find((x) => x.name === name);
    if (!p) throw new InternalError(`pool ${name} is not configured`);
    return { name: p.name, backend: backendOf(p.name), storageNode: p.storage_node, totalCapacityGb: p.total_capacity_gb, provisionedCapacityGb: 0, maxOverSubscriptionRatio: p.max_over_subscription_ratio, reservedPercentage: p.reserved_percentage, thinProvisioningSupport: p.thin_provisioning_support, volumeTypes: p.volume_types, up: true };
  }
}
