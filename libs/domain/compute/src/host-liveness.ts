/**
 * Host liveness as the controller sees it, from two channels as vSphere HA does: NATS heartbeats
 * (network) and the agent's Redis lease `mc:compute-agent:lease:<host_id>` (its "datastore
 * heartbeat"). ARCHITECTURE.md section 5.
 *
 * States: up; suspect (heartbeats late, not yet failed); failed (both channels silent); isolated
 * (heartbeats silent, lease still renewed with the current epoch); fenced (the controller bumped the
 * epoch: the host's VMs may be restarted elsewhere; left only by a re-registration); maintenance
 * (operator, sticky); standby (DPM powered the host off; sticky, left when DPM wakes it: HA does not
 * treat it as failed, the scheduler does not place on it). `down` is the legacy heartbeat-only verdict
 * (callers without the lease channel).
 */
export type HostLiveness = 'up' | 'suspect' | 'failed' | 'isolated' | 'fenced' | 'maintenance' | 'standby' | 'down';

/** States in which a host gets no new work and its VMs are presumed not reachable. */
export function isHostDown(s: HostLiveness): boolean {
  return s === 'failed' || s === 'fenced' || s === 'down' || s === 'isolated';
}

/** What liveness is decided from; all times in ms since the epoch. */
export interface HostLivenessInput {
  readonly state: HostLiveness;
  /** Last (re-)registration; counts as a heartbeat (grace for a starting host). */
  readonly registeredAtMs: number;
  /** Last heartbeat carrying the host's current epoch, if any. */
  readonly lastHeartbeatAtMs?: number;
  readonly nowMs: number;
  /**
   * Lease channel: estimated time of the lease's last renewal carrying the current epoch (from its
   * PTTL: now - (lease_ttl - pttl)); undefined when never seen. Omit `leaseTtlMs` in the policy to
   * decide from heartbeats only.
   */
  readonly leaseRenewedAtMs?: number;
}

export interface HostLivenessPolicy {
  /** Silence after which a host is no longer up (HOST_DOWN_AFTER_MS, default 5000). */
  readonly downAfterMs: number;
  /** Silence after which an up host is suspect (default downAfterMs / 2: two missed 1 s heartbeats). */
  readonly suspectAfterMs?: number;
  /** Silence allowed after a registration before the first heartbeat (default 2 * downAfterMs). */
  readonly newHostGraceMs?: number;
  /** The agents' lease TTL (LEASE_TTL_MS); enables the lease channel. */
  readonly leaseTtlMs?: number;
}

export interface HostLivenessDecision {
  readonly state: HostLiveness;
  /**
   * Why, for logs and the host.state_changed event: heartbeat_fresh, heartbeat_late,
   * heartbeat_missed (legacy down), heartbeat_and_lease_lost, lease_renewed_heartbeat_lost,
   * new_host_grace, fenced, maintenance.
   */
  readonly reason: string;
  /** ms since the last heartbeat (or registration). */
  readonly silentForMs: number;
}

/**
 * Next liveness state of a host (pure). Maintenance and fenced are sticky (left by an operator or a
 * re-registration, which stores `up`). Otherwise, with s = ms since the last heartbeat or registration:
 * s <= suspectAfter -> up; a host that has not heartbeated since registering stays up for
 * newHostGrace; s <= downAfter -> suspect; beyond: isolated if the lease was renewed within
 * lease_ttl, else failed (or `down` when the policy has no lease channel). A heartbeat brings any
 * non-sticky state back to up at once.
 */
export function evaluateHostLiveness(input: HostLivenessInput, policy: HostLivenessPolicy): HostLivenessDecision {
  const lastSeen = Math.max(input.registeredAtMs, input.lastHeartbeatAtMs ?? 0);
  const silentForMs = Math.max(0, input.nowMs - lastSeen);
  if (input.state === 'maintenance') return { state: 'maintenance', reason: 'maintenance', silentForMs };
  if (input.state === 'fenced') return { state: 'fenced', reason: 'fenced', silentForMs };
  if (input.state === 'standby') return { state: 'standby', reason: 'standby', silentForMs };
  const suspectAfterMs = policy.suspectAfterMs ?? policy.downAfterMs / 2;
  const neverBeat = input.lastHeartbeatAtMs === undefined || input.lastHeartbeatAtMs < input.registeredAtMs;
  if (silentForMs <= suspectAfterMs) return { state: 'up', reason: 'heartbeat_fresh', silentForMs };
  if (neverBeat && silentForMs <= (policy.newHostGraceMs ?? policy.downAfterMs * 2)) return { state: 'up', reason: 'new_host_grace', silentForMs };
  if (policy.leaseTtlMs === undefined) {
    // Heartbeat-only callers (placement): up while within downAfter.
    return silentForMs > policy.downAfterMs ? { state: 'down', reason: 'heartbeat_missed', silentForMs } : { state: 'up', reason: 'heartbeat_fresh', silentForMs };
  }
  if (silentForMs <= policy.downAfterMs) return { state: 'suspect', reason: 'heartbeat_late', silentForMs };
  const leaseAlive = input.leaseRenewedAtMs !== undefined && input.nowMs - input.leaseRenewedAtMs <= policy.leaseTtlMs;
  if (leaseAlive) return { state: 'isolated', reason: 'lease_renewed_heartbeat_lost', silentForMs };
  return { state: 'failed', reason: 'heartbeat_and_lease_lost', silentForMs };
}

/** Inputs of the fencing rule. */
export interface FenceInput {
  readonly nowMs: number;
  /**
   * First time this controller saw the lease absent (expired, or carrying an older epoch) during this
   * failure. An expired lease proves its last renewal R <= leaseMissingSinceMs - lease_ttl.
   */
  readonly leaseMissingSinceMs: number;
}

/**
 * When a failed host's VMs may be restarted elsewhere (pure): only once lease_ttl + self_fence_after
 * has passed since the lease's last renewal R, by which time the agent's watchdog has powered its VMs
 * off (Proxmox HA's rule; the agent fences at R + self_fence_after). The controller cannot see R
 * exactly (it samples), but the first observation X of an absent lease bounds it: R <= X - lease_ttl,
 * so X + self_fence_after >= R + lease_ttl + self_fence_after is always safe. An earlier PTTL sample
 * is only a lower bound of R and must not be used.
 * @returns the earliest restart time (ms) and whether it has passed
 */
export function fenceDeadline(input: FenceInput, t: { selfFenceAfterMs: number }): { restartAtMs: number; ready: boolean } {
  const restartAtMs = input.leaseMissingSinceMs + t.selfFenceAfterMs;
  return { restartAtMs, ready: input.nowMs >= restartAtMs };
}

/**
 * Zone-aware partition guard (pure): when every candidate host (not in maintenance or standby, not
 * already fenced; at least two) looks down at once, the controller is more likely the one cut off: restart
 * nothing.
 */
export function partitionSuspected(states: readonly HostLiveness[]): boolean {
  const candidates = states.filter((s) => s !== 'maintenance' && s !== 'fenced' && s !== 'standby');
  if (candidates.length < 2) return false;
  return candidates.every((s) => s !== 'up');
}

/** What an agent applies when it finds itself isolated (vSphere HA's host isolation response). */
export type IsolationResponse = 'power_off' | 'shutdown' | 'leave_running';

/**
 * The agent's record of the isolation response it applied (its own Redis key
 * `mc:compute-agent:isolation:<host_id>`, vSphere's "poweron file" on the datastore), written only after
 * every VM listed was off.
 */
export interface IsolationRecord {
  /** The epoch the agent held when it applied the response. */
  readonly epoch: number;
  readonly response: IsolationResponse;
  /** VMs it powered off (empty for leave_running). */
  readonly poweredOffIds: readonly string[];
  readonly appliedAtMs: number;
}

/**
 * Whether the controller may fence an isolated host and restart its VMs elsewhere (pure). Only when
 * the host is `isolated` (heartbeats silent, lease renewed) AND its agent recorded, for the host's
 * CURRENT epoch, that it applied `power_off` or `shutdown`: its VMs are off and the agent refuses to
 * start any until it registers afresh, so after the epoch bump nothing can run them there.
 * `leave_running` (or no record, or a record of an older epoch) never fences: the VMs keep running
 * where they are and nothing restarts (a VM never runs twice).
 * @returns fence = true when it may fence now; reason for logs: no_record, stale_record,
 *   leave_running, response_applied, not_isolated
 */
export function isolationFenceDecision(input: { state: HostLiveness; hostEpoch: number; record?: IsolationRecord }): { fence: boolean; reason: string } {
  if (input.state !== 'isolated') return { fence: false, reason: 'not_isolated' };
  const rec = input.record;
  if (!rec) return { fence: false, reason: 'no_record' };
  if (rec.epoch !== input.hostEpoch) return { fence: false, reason: 'stale_record' };
  if (rec.response === 'leave_running') return { fence: false, reason: 'leave_running' };
  return { fence: true, reason: 'response_applied' };
}

/**
 * Instances to power on again on a host that re-registered without having been fenced (pure): its
 * agent powered them off by itself (self-fencing after a Redis blip, or an isolation response the
 * controller had not acted on yet), the controller never restarted them elsewhere, and the user still
 * wants them running (vSphere/Proxmox HA restart them). Picks instances placed on an `up` host with
 * vm_state active, no task, power_state shutdown or crashed, and no open evacuation.
 */
export function powerOnAfterRejoin<T extends { id: string; hostId: string; vmState: string; taskState: string | null; powerState: string }>(
  instances: readonly T[],
  upHostIds: ReadonlySet<string>,
  evacuating: ReadonlySet<string>,
): T[] {
  return instances.filter((r) => upHostIds.has(r.hostId) && isPoweredOffByItsHost(r) && !evacuating.has(r.id));
}

/** vm_state active, no task, yet power_state shutdown or crashed: the user wants it running and nothing is moving it. */
export function isPoweredOffByItsHost(r: { vmState: string; taskState: string | null; powerState: string }): boolean {
  return r.vmState === 'active' && r.taskState === null && (r.powerState === 'shutdown' || r.powerState === 'crashed');
}
