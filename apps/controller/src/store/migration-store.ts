import type { LeaderFence } from '@minicloud/platform-lifecycle';
import type { Redis } from '@minicloud/platform-state';
import { CasStore, orNotFound } from './cas-store';
import { Keys as MigrationKeys } from './keys';

/** Nova's migration statuses as the agents publish them (compute.Migration.status). */
export type MigrationStatus = 'queued' | 'preparing' | 'running' | 'post-migrating' | 'completed' | 'failed' | 'error' | 'cancelled';

/** Terminal statuses: nothing moves a record out of them. */
export const TERMINAL_MIGRATION_STATUSES: ReadonlySet<MigrationStatus> = new Set(['completed', 'failed', 'cancelled']);

/**
 * One migration (Nova's `migrations` table, compute.Migration): bytes in bytes, times in ms
 * (model times from the source agent's progress events), throttle in percent.
 */
export interface MigrationRecord {
  id: string;
  instanceId: string;
  /** live-migration, migration, evacuation. */
  migrationType: 'live-migration' | 'migration' | 'evacuation';
  sourceHostId: string;
  destHostId: string;
  status: MigrationStatus;
  rounds: number;
  transferredBytes: number;
  remainingBytes: number;
  totalTimeMs: number;
  downtimeMs: number;
  cpuThrottlePercentage: number;
  postCopy: boolean;
  error: string;
  /** Request id of the instance action (`live-migration`) this migration completes. */
  requestId: string;
  createdAtMs: number;
  updatedAtMs: number;
}


/**
 * Migration records: `migration:<id>` (JSON, updated by compare-and-set), `migrations` (id set) and
 * `instance:<id>:migrations` (id set). Records are kept after completion (ListMigrations history).
 */
export class MigrationStore extends CasStore {
  constructor(redis: Redis) {
    super(redis);
  }

  async create(m: MigrationRecord): Promise<void> {
    await this.redis
      .multi()
      .set(MigrationKeys.migration(m.id), JSON.stringify(m))
      .sadd(MigrationKeys.migrations(), m.id)
      .sadd(MigrationKeys.instanceMigrations(m.instanceId), m.id)
      .exec();
  }

  async find(id: string): Promise<MigrationRecord | undefined> {
    return id ? this.readJson<MigrationRecord>(MigrationKeys.migration(id)) : undefined;
  }

  /** @throws NotFoundError('migration', id) */
  async get(id: string): Promise<MigrationRecord> {
    return orNotFound(await this.find(id), 'migration', id);
  }

  /** Records, newest first, optionally of one instance and/or touching one host (source or destination). */
  async list(filter: { instanceId?: string; hostId?: string } = {}): Promise<MigrationRecord[]> {
    const ids = await this.redis.smembers(filter.instanceId ? MigrationKeys.instanceMigrations(filter.instanceId) : MigrationKeys.migrations());
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(...ids.map((id) => MigrationKeys.migration(id)));
    return raws
      .filter((r): r is string => !!r)
      .map((r) => JSON.parse(r) as MigrationRecord)
      .filter((m) => !filter.hostId || m.sourceHostId === filter.hostId || m.destHostId === filter.hostId)
      .sort((a, b) => b.createdAtMs - a.createdAtMs || a.id.localeCompare(b.id));
  }

  /** The instance's migration not yet in a terminal status (at most one by construction), if any. */
  async active(instanceId: string): Promise<MigrationRecord | undefined> {
    return (await this.list({ instanceId })).find((m) => !TERMINAL_MIGRATION_STATUSES.has(m.status));
  }

  /**
   * Read-modify-write with compare-and-set, retried on conflict. `mutate` returning undefined leaves
   * the record unchanged; `fence` makes it a leader write (see CasStore.casUpdate).
   * @returns the stored record, or undefined when it does not exist
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing written
   */
  async update(id: string, mutate: (m: MigrationRecord) => MigrationRecord | undefined, nowMs: number, fence?: LeaderFence): Promise<MigrationRecord | undefined> {
    return this.casUpdate<MigrationRecord>(MigrationKeys.migration(id), (cur) => {
      const next = mutate(cur);
      return next && { ...next, updatedAtMs: nowMs };
    }, `migration ${id}`, 50, fence);
  }
}
