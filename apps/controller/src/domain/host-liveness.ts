/**
 * Host liveness as the controller sees it. This first version has two states driven by NATS
 * heartbeats (Nova's servicegroup `is_up`); the HA issue adds suspect/isolated/failed/fenced with the
 * Redis lease as a second channel, so callers switch on the returned state, never on timings.
 */
export type HostLiveness = 'up' | 'down' | 'maintenance';

/** What liveness is decided from; all times in ms since the epoch. */
export interface HostLivenessInput {
  readonly state: HostLiveness;
  /** Last (re-)registration; counts as a heartbeat (grace for a starting host). */
  readonly registeredAtMs: number;
  /** Last heartbeat carrying the host's current epoch, if any. */
  readonly lastHeartbeatAtMs?: number;
  readonly nowMs: number;
}

export interface HostLivenessPolicy {
  /** Silence after which a host is down (HOST_DOWN_AFTER_MS, default 5000). */
  readonly downAfterMs: number;
}

export interface HostLivenessDecision {
  readonly state: HostLiveness;
  /** Why, for logs and the host.state_changed event: heartbeat_fresh, heartbeat_missed, maintenance. */
  readonly reason: string;
  /** ms since the last sign of life. */
  readonly silentForMs: number;
}

/**
 * Next liveness state of a host. Maintenance is sticky (left only by an operator). Otherwise the host
 * is up while its last sign of life (heartbeat or registration) is at most `downAfterMs` old, down
 * after; a heartbeat brings a down host back up at once.
 */
export function evaluateHostLiveness(input: HostLivenessInput, policy: HostLivenessPolicy): HostLivenessDecision {
  const lastSeen = Math.max(input.registeredAtMs, input.lastHeartbeatAtMs ?? 0);
  const silentForMs = Math.max(0, input.nowMs - lastSeen);
  if (input.state === 'maintenance') return { state: 'maintenance', reason: 'maintenance', silentForMs };
  if (silentForMs > policy.downAfterMs) return { state: 'down', reason: 'heartbeat_missed', silentForMs };
  return { state: 'up', reason: 'heartbeat_fresh', silentForMs };
}
