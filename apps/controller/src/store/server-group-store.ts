import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import type { ServerGroupPolicy } from '@minicloud/domain-scheduler';
import type { Redis } from '@minicloud/platform-state';
import { CasStore } from './cas-store';
import { Keys } from './keys';

/** A server group (Nova's os-server-groups, microversion 2.64 shape). */
export interface ServerGroupRecord {
  id: string;
  name: string;
  projectId: string;
  policy: ServerGroupPolicy;
  /** anti-affinity only (Nova rule `max_server_per_host`); 1 otherwise. */
  maxServerPerHost: number;
  memberIds: string[];
}

const POLICIES: readonly ServerGroupPolicy[] = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

/**
 * Server groups: `server_group:<id>` (JSON), `server_groups` and `project:<p>:server_groups` (id
 * sets). Members are added under a per-group lock held by the placing replica (see `withLock`), so
 * two concurrent creates in one anti-affinity group cannot both see the same free host.
 */
export class ServerGroupStore extends CasStore {
  constructor(redis: Redis) {
    super(redis);
  }

  /** @throws InvalidArgumentError('name' | 'policy' | 'max_server_per_host') */
  async create(projectId: string, name: string, policy: string, maxServerPerHost: number): Promise<ServerGroupRecord> {
    if (!name.trim()) throw new InvalidArgumentError('name', 'is required');
    if (!POLICIES.includes(policy as ServerGroupPolicy)) throw new InvalidArgumentError('policy', `must be one of ${POLICIES.join(', ')}, got '${policy}'`);
    if (maxServerPerHost !== 0 && policy !== 'anti-affinity') throw new InvalidArgumentError('max_server_per_host', 'is only valid with the anti-affinity policy');
    if (maxServerPerHost < 0) throw new InvalidArgumentError('max_server_per_host', `must be >= 1, got ${maxServerPerHost}`);
    const g: ServerGroupRecord = { id: randomUUID(), name, projectId, policy: policy as ServerGroupPolicy, maxServerPerHost: maxServerPerHost || 1, memberIds: [] };
    await this.redis.multi().set(Keys.serverGroup(g.id), JSON.stringify(g)).sadd(Keys.serverGroups(), g.id).sadd(Keys.projectServerGroups(projectId), g.id).exec();
    return g;
  }

  async find(id: string): Promise<ServerGroupRecord | undefined> {
    const raw = id ? await this.redis.get(Keys.serverGroup(id)) : null;
    return raw ? (JSON.parse(raw) as ServerGroupRecord) : undefined;
  }

  async list(projectId?: string): Promise<ServerGroupRecord[]> {
    const ids = await this.redis.smembers(projectId ? Keys.projectServerGroups(projectId) : Keys.serverGroups());
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => Keys.serverGroup(id)));
    return raws.filter((r): r is string => !!r).map((r) => JSON.parse(r) as ServerGroupRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Nova deletes a group with members too (members keep running, ungrouped). */
  async delete(g: ServerGroupRecord): Promise<void> {
    await this.redis.multi().del(Keys.serverGroup(g.id)).srem(Keys.serverGroups(), g.id).srem(Keys.projectServerGroups(g.projectId), g.id).exec();
  }

  /** Adds/removes members; call with the group's lock held for adds (removes are safe anytime). */
  async changeMembers(id: string, add: readonly string[], remove: readonly string[]): Promise<void> {
    await this.casUpdate<ServerGroupRecord>(Keys.serverGroup(id), (g) => ({ ...g, memberIds: [...new Set([...g.memberIds, ...add])].filter((m) => !remove.includes(m)) }), `server group ${id}`);
  }

  /**
   * Runs `fn` holding the group's placement lock (SET NX PX, released after; waits up to `waitMs`).
   * @throws FailedPreconditionError reason `server_group_busy` when the lock stays taken
   */
  async withLock<T>(id: string, fn: () => Promise<T>, waitMs = 15_000, ttlMs = 30_000): Promise<T> {
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    while ((await this.redis.set(Keys.serverGroupLock(id), token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new FailedPreconditionError(`server group ${id} is busy placing other members; retry`, 'server_group_busy');
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, Keys.serverGroupLock(id), token);
    }
  }
}
