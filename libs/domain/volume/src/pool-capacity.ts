import type { PoolState } from './pool';

type CapacityFields = Pick<
  PoolState,
  'totalCapacityGb' | 'provisionedCapacityGb' | 'maxOverSubscriptionRatio' | 'reservedPercentage' | 'thinProvisioningSupport'
>;

/** GB of a pool's total held back by its reserved_percentage (floored, as Cinder's CapacityFilter). */
export function reservedCapacityGb(pool: Pick<PoolState, 'totalCapacityGb' | 'reservedPercentage'>): number {
  return Math.floor((pool.totalCapacityGb * pool.reservedPercentage) / 100);
}

/**
 * The most GB that may ever be provisioned on a pool:
 * thin (ratio >= 1): floor(total * max_over_subscription_ratio) - reserved;
 * thick: total - reserved. Source: Cinder's CapacityFilter
 * (cinder/scheduler/filters/capacity_filter.py), with free = total - provisioned since nothing
 * in the simulation writes data.
 */
export function maxProvisionedCapacityGb(pool: CapacityFields): number {
  const thin = pool.thinProvisioningSupport && pool.maxOverSubscriptionRatio >= 1;
  const ceiling = thin ? Math.floor(pool.totalCapacityGb * pool.maxOverSubscriptionRatio) : pool.totalCapacityGb;
  return Math.max(0, ceiling - reservedCapacityGb(pool));
}

/**
 * Free capacity in GB as the scheduler uses it: virtual free for thin pools
 * (total * ratio - provisioned - reserved), real free for thick ones (total - provisioned - reserved).
 * Never negative.
 */
export function freeCapacityGb(pool: CapacityFields): number {
  return Math.max(0, maxProvisionedCapacityGb(pool) - pool.provisionedCapacityGb);
}

/** Cinder's CapacityFilter: true when `sizeGb` more fits on the pool. */
export function fitsInPool(pool: CapacityFields, sizeGb: number): boolean {
  return pool.provisionedCapacityGb + sizeGb <= maxProvisionedCapacityGb(pool);
}
