/**
 * Where an instance is in its group (AWS Auto Scaling lifecycle, with Octavia's drain in between):
 * pending (launched, not yet in service: building or warming behind the balancer's health checks),
 * in_service, draining (no new requests; in-flight ones finish), terminating (its server is being deleted).
 */
export type InstanceLifecycle = 'pending' | 'in_service' | 'draining' | 'terminating';

/** One member of a scaling group as the planner sees it. */
export interface GroupInstance {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly launchedAtMs: number;
  readonly lifecycle: InstanceLifecycle;
  /** False when its server is in ERROR/stopped or its pool member is in ERROR. */
  readonly healthy: boolean;
  /** AWS ProtectedFromScaleIn: never picked for scale-in (health replacement still applies). */
  readonly protectedFromScaleIn: boolean;
  /** When draining began (ms), else null. */
  readonly drainStartedMs: number | null;
  /** Requests still in flight on it (modelled concurrency), or null when not known. */
  readonly inFlightRequests: number | null;
}

/** True for instances that count towards the group's capacity. */
export function isActive(i: GroupInstance): boolean {
  return i.lifecycle === 'pending' || i.lifecycle === 'in_service';
}
