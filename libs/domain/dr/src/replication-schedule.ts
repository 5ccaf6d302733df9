import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * The RPO range vSphere Replication offers: 5 minutes to 24 hours ("vSphere Replication
 * Administration", RPO). minicloud accepts RPOs from 1 s so that a demo or a test sees several
 * cycles; the upper bound is the same.
 */
export const VSPHERE_REPLICATION_MIN_RPO_SECONDS = 300;
export const MIN_RPO_SECONDS = 1;
export const MAX_RPO_SECONDS = 86_400;

/** Where the replication of one protected item stands. Times are ms on the caller's clock. */
export interface ReplicationState {
  /** When protection began (the lag counts from here until the first replica completes). */
  readonly protectedSinceMs: number;
  /**
   * The point in time the last completed replica holds: the moment its sync captured the source
   * (a crash-consistent snapshot at the sync's start), or null before the first one completes.
   */
  readonly lastRecoveryPointMs: number | null;
  /** Start of the sync in flight, or null. */
  readonly syncStartedAtMs: number | null;
}

/** What the scheduler decided for now. */
export interface SyncDecision {
  /** 'start' a sync now, 'wait' until `dueAtMs`, or a sync is already 'in_progress'. */
  readonly action: 'start' | 'wait' | 'in_progress';
  /** When the next sync must start so its replica lands within the RPO (ms). */
  readonly dueAtMs: number;
  /** The RPO achieved now: now - last recovery point (or - protectedSince), ms. */
  readonly lagMs: number;
  /** lag > RPO: data older than the RPO would be lost if the source failed now. */
  readonly rpoViolated: boolean;
}

/**
 * Decides when to start the next sync of a protected item so that the recovery point stays within
 * the RPO, as vSphere Replication does: a replica started at S with a sync time E holds the data
 * of S and completes at S + E; the lag just before it completes is S + E - lastPoint, so S must be
 * at most lastPoint + RPO - E. With no replica yet the first (full) sync starts at once; a sync that
 * takes longer than the RPO starts again right after the previous one (and the RPO is missed).
 * @param rpoSeconds the recovery point objective, s (> 0)
 * @param estimatedSyncMs what the next sync is expected to take (the WAN link's estimate of the
 *   changed bytes, or the last sync's duration), ms (>= 0)
 * @throws InvalidArgumentError (`rpo_seconds`, `estimated_sync_ms`, `now_ms`) for bad numbers
 */
export function decideSync(state: ReplicationState, rpoSeconds: number, estimatedSyncMs: number, nowMs: number): SyncDecision {
  if (!(rpoSeconds > 0) || !Number.isFinite(rpoSeconds)) throw new InvalidArgumentError('rpo_seconds', `must be > 0, got ${rpoSeconds}`);
  if (!(estimatedSyncMs >= 0) || !Number.isFinite(estimatedSyncMs)) throw new InvalidArgumentError('estimated_sync_ms', `must be >= 0, got ${estimatedSyncMs}`);
  if (!Number.isFinite(nowMs)) throw new InvalidArgumentError('now_ms', 'must be finite');
  const rpoMs = rpoSeconds * 1000;
  const lagMs = replicationLagMs(state, nowMs);
  const rpoViolated = lagMs > rpoMs;
  if (state.lastRecoveryPointMs === null) {
    const action = state.syncStartedAtMs === null ? 'start' : 'in_progress';
    return { action, dueAtMs: state.syncStartedAtMs ?? nowMs, lagMs, rpoViolated };
  }
  const dueAtMs = Math.max(state.lastRecoveryPointMs, state.lastRecoveryPointMs + rpoMs - estimatedSyncMs);
  if (state.syncStartedAtMs !== null) return { action: 'in_progress', dueAtMs, lagMs, rpoViolated };
  return { action: nowMs >= dueAtMs ? 'start' : 'wait', dueAtMs, lagMs, rpoViolated };
}

/**
 * The RPO actually achieved at `nowMs`: how old the newest recoverable data is, ms
 * (now - last recovery point; before the first replica, now - protectedSince). Never negative.
 */
export function replicationLagMs(state: ReplicationState, nowMs: number): number {
  return Math.max(0, nowMs - (state.lastRecoveryPointMs ?? state.protectedSinceMs));
}

/**
 * The state after a sync that started at `syncStartedAtMs` completed: its start becomes the new
 * recovery point (never moving backwards).
 */
export function completeSync(state: ReplicationState, syncStartedAtMs: number): ReplicationState {
  const point = state.lastRecoveryPointMs === null ? syncStartedAtMs : Math.max(state.lastRecoveryPointMs, syncStartedAtMs);
  return { ...state, lastRecoveryPointMs: point, syncStartedAtMs: null };
}

/**
 * Checks an RPO given by a user.
 * @throws InvalidArgumentError (`rpo_seconds`) unless an integer in [MIN_RPO_SECONDS, MAX_RPO_SECONDS]
 */
export function checkRpoSeconds(rpoSeconds: number): void {
  if (!Number.isInteger(rpoSeconds) || rpoSeconds < MIN_RPO_SECONDS || rpoSeconds > MAX_RPO_SECONDS) {
    throw new InvalidArgumentError('rpo_seconds', `must be an integer in [${MIN_RPO_SECONDS}, ${MAX_RPO_SECONDS}], got ${rpoSeconds}`);
  }
}
