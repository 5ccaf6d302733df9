import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { PoolState } from './pool';
import { schedulePool, type VolumeRequest } from './pool-scheduler';

/** One copy of a volume on a pool; `lost` once its pool/node went down, `ok` otherwise. */
export interface ReplicaState {
  readonly pool: string;
  readonly storageNode: string;
  readonly state: 'ok' | 'lost';
}

/**
 * Chooses `count` pools on `count` different storage nodes (failure domains) for a replicated
 * volume: Cinder's filters and capacity weigher per pick, each pick removing its node from the rest.
 * `excludeNodes` are nodes already holding a copy (repair).
 * @returns pools best first, one per node
 * @throws ResourceExhaustedError naming the pools and why, when fewer than `count` nodes can take a copy
 */
export function placeReplicas(
  pools: readonly PoolState[],
  req: VolumeRequest,
  count: number,
  opts: { capacityWeightMultiplier?: number; excludeNodes?: readonly string[] } = {},
): PoolState[] {
  const used = new Set(opts.excludeNodes ?? []);
  const chosen: PoolState[] = [];
  for (let i = 0; i < count; i++) {
    const candidates = pools.filter((p) => !used.has(p.storageNode));
    if (candidates.length === 0) {
      throw new ResourceExhaustedError(
        `No valid backend: ${count} copies of type ${req.volumeType.name} need ${count} storage nodes, only ${chosen.length} available (nodes in use: ${[...used].join(', ') || 'none'})`,
        'no_valid_backend',
      );
    }
    const sel = schedulePool(candidates, req, opts);
    chosen.push(sel.pool);
    used.add(sel.pool.storageNode);
  }
  return chosen;
}

/**
 * Replication status as Cinder reports it: `disabled` for a single-copy volume, `enabled` when every
 * expected copy is ok, `degraded` when fewer than `count` copies are ok (but one at least), `error`
 * when none is.
 */
export function replicationStatusOf(replicas: readonly Pick<ReplicaState, 'state'>[], count: number): 'disabled' | 'enabled' | 'degraded' | 'error' {
  if (count <= 1) return 'disabled';
  const ok = replicas.filter((r) => r.state === 'ok').length;
  if (ok === 0) return 'error';
  return ok >= count ? 'enabled' : 'degraded';
}
