import { InvalidArgumentError } from '@minicloud/domain-errors';

/** SRM's VM priority groups: 1 (highest, recovered first) to 5 ("Site Recovery Manager Administration", Priority Groups). */
export type RecoveryPriority = 1 | 2 | 3 | 4 | 5;
export const DEFAULT_RECOVERY_PRIORITY: RecoveryPriority = 3;

/** One protected server as a plan sees it. */
export interface PlanServer {
  readonly serverId: string;
  /** SRM priority 1..5; absent: the default 3, as SRM assigns. */
  readonly priority?: number;
  /** Start order within its priority (lower first; absent: after the ordered ones, by id). */
  readonly startOrder?: number;
}

/** A protection group as a recovery plan lists it. */
export interface PlanGroup {
  readonly groupId: string;
  readonly servers: readonly PlanServer[];
}

/** One wave of a recovery: the servers of one priority, in start order. */
export interface RecoveryWave {
  readonly priority: RecoveryPriority;
  /** [groupId, serverId] pairs in the order they are powered on. */
  readonly servers: readonly { readonly groupId: string; readonly serverId: string }[];
}

/**
 * Orders the servers of a recovery plan as SRM does: all priority-1 servers are recovered before
 * any priority-2 server starts, and so on to 5; within a priority, servers start in their start
 * order (SRM's VM dependencies reduced to a sequence), then in the order the plan lists its groups,
 * then by id so that the order is deterministic. Empty priorities produce no wave.
 * @throws InvalidArgumentError (`priority`) outside 1..5 or not an integer, (`start_order`) negative
 *   or not an integer, (`server_id`) when a server appears twice in the plan
 */
export function recoveryWaves(groups: readonly PlanGroup[]): RecoveryWave[] {
  const seen = new Set<string>();
  const rows: { groupIndex: number; groupId: string; serverId: string; priority: RecoveryPriority; startOrder: number }[] = [];
  groups.forEach((g, groupIndex) => {
    for (const s of g.servers) {
      if (seen.has(s.serverId)) throw new InvalidArgumentError('server_id', `server ${s.serverId} is in the plan twice`);
      seen.add(s.serverId);
      const priority = s.priority ?? DEFAULT_RECOVERY_PRIORITY;
      if (!isPriority(priority)) throw new InvalidArgumentError('priority', `must be an integer 1..5, got ${priority}`);
      const startOrder = s.startOrder ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(startOrder) || startOrder < 0) throw new InvalidArgumentError('start_order', `must be a non-negative integer, got ${s.startOrder}`);
      rows.push({ groupIndex, groupId: g.groupId, serverId: s.serverId, priority, startOrder });
    }
  });
  rows.sort((a, b) => a.priority - b.priority || a.startOrder - b.startOrder || a.groupIndex - b.groupIndex || (a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0));
  const waves: RecoveryWave[] = [];
  for (const r of rows) {
    const last = waves[waves.length - 1];
    const entry = { groupId: r.groupId, serverId: r.serverId };
    if (last && last.priority === r.priority) (last.servers as { groupId: string; serverId: string }[]).push(entry);
    else waves.push({ priority: r.priority, servers: [entry] });
  }
  return waves;
}

/** True for an integer 1..5. */
export function isPriority(v: number): v is RecoveryPriority {
  return Number.isInteger(v) && v >= 1 && v <= 5;
}

/**
 * Maps a source-region resource (network or flavor) to the target region's, as SRM's inventory
 * mappings do: an explicit mapping wins; with none, the same id/name is assumed to exist there.
 * @param kind 'network' or 'flavor', for the error's field (`network_mapping` / `flavor_mapping`)
 * @param strict when true, an unmapped source is an error instead of passing through
 * @throws InvalidArgumentError naming the mapping when strict and the source has no mapping
 */
export function mapResource(mapping: Readonly<Record<string, string>>, source: string, kind: 'network' | 'flavor', strict = false): string {
  const target = mapping[source];
  if (target !== undefined && target !== '') return target;
  if (strict) throw new InvalidArgumentError(`${kind}_mapping`, `no target ${kind} for ${source}`);
  return source;
}
