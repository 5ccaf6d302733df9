import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { PoolState } from './pool';
import { fitsInPool, freeCapacityGb } from './pool-capacity';
import { poolServesType, type VolumeTypeSpec } from './volume-type';

/** What a volume needs from a pool. */
export interface VolumeRequest {
  readonly sizeGb: number;
  readonly volumeType: VolumeTypeSpec;
}

/** Why a pool was not chosen (Nomad-style: every rejection has a reason). */
export interface PoolRejection {
  readonly pool: string;
  readonly reason: string;
}

/** The chosen pool, the others that fit (best first, for retry after a lost claim), and the rejections. */
export interface PoolSelection {
  readonly pool: PoolState;
  readonly alternates: readonly PoolState[];
  readonly rejections: readonly PoolRejection[];
}

/**
 * Cinder's CapacityWeigher raw weight: free capacity in GB (virtual for thin pools). With the default
 * multiplier 1.0 the emptiest pool wins (spread); a negative multiplier stacks.
 */
export function capacityWeight(pool: PoolState): number {
  return freeCapacityGb(pool);
}

/** Filters one pool; returns the reason it is rejected, or undefined when it passes. */
export function rejectReason(pool: PoolState, req: VolumeRequest, typeListedAnywhere: boolean): string | undefined {
  if (!pool.up) return 'pool is down';
  if (!poolServesType(pool, req.volumeType, typeListedAnywhere)) return `does not serve volume type ${req.volumeType.name}`;
  if (!fitsInPool(pool, req.sizeGb)) return `needs ${req.sizeGb} GB, ${freeCapacityGb(pool)} GB free`;
  return undefined;
}

/**
 * Chooses a pool for a volume: filters (pool up, serves the type, CapacityFilter), then weighs with
 * the CapacityWeigher times `capacityWeightMultiplier` (default 1.0: spread). Ties keep input order.
 * @throws ResourceExhaustedError (reason "no_valid_backend") listing every pool and why it was rejected
 */
export function schedulePool(pools: readonly PoolState[], req: VolumeRequest, opts: { capacityWeightMultiplier?: number } = {}): PoolSelection {
  const multiplier = opts.capacityWeightMultiplier ?? 1.0;
  const listedAnywhere = pools.some((p) => p.volumeTypes.includes(req.volumeType.name));
  const rejections: PoolRejection[] = [];
  const passing: PoolState[] = [];
  for (const pool of pools) {
    const reason = rejectReason(pool, req, listedAnywhere);
    if (reason) rejections.push({ pool: pool.name, reason });
    else passing.push(pool);
  }
  if (passing.length === 0) {
    const why = rejections.map((r) => `${r.pool}: ${r.reason}`).join('; ') || 'no pools';
    throw new ResourceExhaustedError(`No valid backend for ${req.sizeGb} GB of type ${req.volumeType.name} (${why})`, 'no_valid_backend');
  }
  const ranked = passing
    .map((pool, i) => ({ pool, i, weight: multiplier * capacityWeight(pool) }))
    .sort((a, b) => b.weight - a.weight || a.i - b.i)
    .map((w) => w.pool);
  return { pool: ranked[0]!, alternates: ranked.slice(1), rejections };
}
