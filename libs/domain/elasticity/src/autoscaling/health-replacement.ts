import { GroupInstance, isActive } from './group-instance';

/**
 * Instances to replace (AWS health-check replacement): active, unhealthy, and launched at least
 * `healthCheckGracePeriodSeconds` ago (a booting instance fails its checks until it serves).
 * Scale-in protection does not shield an unhealthy instance, as in AWS.
 */
export function instancesToReplace(instances: readonly GroupInstance[], nowMs: number, healthCheckGracePeriodSeconds: number): string[] {
  return instances
    .filter((i) => isActive(i) && !i.healthy && nowMs - i.launchedAtMs >= healthCheckGracePeriodSeconds * 1000)
    .map((i) => i.instanceId);
}

/**
 * True when a draining instance may be terminated: nothing in flight any more (fewer than half a
 * request modelled), or `drainTimeoutSeconds` since the drain began (Octavia/AWS deregistration
 * delay; in-flight requests past it are cut).
 */
export function drainComplete(i: GroupInstance, nowMs: number, drainTimeoutSeconds: number): boolean {
  if (i.lifecycle !== 'draining' || i.drainStartedMs === null) return false;
  if (i.inFlightRequests !== null && i.inFlightRequests < 0.5) return true;
  return nowMs - i.drainStartedMs >= drainTimeoutSeconds * 1000;
}
