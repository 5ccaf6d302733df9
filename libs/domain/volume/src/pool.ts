/**
 * A storage pool as Cinder's scheduler sees it (a backend's `get_volume_stats` pool entry, plus
 * what this cloud provisioned on it). Capacities in GB.
 */
export interface PoolState {
  /** `backend@pool`, e.g. "lvm@ssd". */
  readonly name: string;
  /** Backend name (the part before `@`); matched against a type's `volume_backend_name`. */
  readonly backend: string;
  /** Failure domain: the simulated storage node. */
  readonly storageNode: string;
  readonly totalCapacityGb: number;
  /** Sum of the sizes of the volumes and snapshots on the pool (Cinder's provisioned_capacity_gb). */
  readonly provisionedCapacityGb: number;
  /** Cinder's max_over_subscription_ratio (thin only; default 20.0). */
  readonly maxOverSubscriptionRatio: number;
  /** Share of the total kept free, 0..100 (Cinder's reserved_percentage). */
  readonly reservedPercentage: number;
  readonly thinProvisioningSupport: boolean;
  /** Names of the volume types this pool serves. */
  readonly volumeTypes: readonly string[];
  readonly up: boolean;
}

/** The backend part of `backend@pool` (the whole name when there is no `@`). */
export function backendOf(poolName: string): string {
  const at = poolName.indexOf('@');
  return at < 0 ? poolName : poolName.slice(0, at);
}
