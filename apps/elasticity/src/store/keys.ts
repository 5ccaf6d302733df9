import { keyspace } from '@minicloud/platform-state';

const k = keyspace('elasticity');

/** The resource kinds the service stores, one Redis hash each (id -> JSON record). */
export type ResourceKind = 'load_balancer' | 'listener' | 'pool' | 'member' | 'scaling_group' | 'scaling_policy';

/** Redis keys of the elasticity service (all under `mc:elasticity:`). */
export const keys = {
  /** Hash of every record of a kind, by id. */
  records: (kind: ResourceKind) => k(kind),
  /** The reconcile loop's leader lease. */
  leader: () => k('leader'),
};
