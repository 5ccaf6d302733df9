import { InvalidArgumentError } from '@minicloud/domain-errors';
import { QEMU_MIGRATION_DEFAULTS, type MigrationParameters, type MigrationRound } from './migration-parameters';

/** What the step-wise migration needs up front: RAM and device-state sizes (the dirty rate is given per step). */
export interface PreCopySizes {
  /** Guest RAM, bytes (> 0). */
  readonly ramBytes: number;
  /** Device state sent during the stop-and-copy, bytes (default 0). */
  readonly deviceStateBytes?: number;
}

/**
 * The next thing a migrating source does (one QEMU migration_iteration_run), as planned by
 * {@link PreCopyMigration.next}:
 * - `round`: send `round.sentBytes` at the bandwidth (`round.durationMs`); the guest dirtied
 *   `round.dirtiedBytes` meanwhile, which the next round resends.
 * - `stop_and_copy`: converged: pause the guest, send `remainingBytes` + the device state
 *   (`downtimeMs`, never more than the downtime limit plus the device-state time), resume on the destination.
 * - `postcopy`: resume on the destination after the device state (`downtimeMs`), then pull
 *   `remainingBytes` (`pullMs`).
 * - `abort`: `reason` 'timeout' (the next round would end after timeout_ms, timeout action abort) or
 *   'max_rounds'; the guest keeps running on the source. With timeout action force_complete the
 *   timeout ends in `postcopy` (post-copy permitted) or a `stop_and_copy` of everything left instead.
 */
export type PreCopyStep =
  | { readonly kind: 'round'; readonly round: MigrationRound }
  | { readonly kind: 'stop_and_copy'; readonly remainingBytes: number; readonly deviceStateBytes: number; readonly downtimeMs: number }
  | { readonly kind: 'postcopy'; readonly remainingBytes: number; readonly deviceStateBytes: number; readonly downtimeMs: number; readonly pullMs: number }
  | { readonly kind: 'abort'; readonly reason: 'timeout' | 'max_rounds' };

type Resolved = Required<Omit<MigrationParameters, 'postcopyAfterRounds' | 'timeoutMs'>> &
  Pick<MigrationParameters, 'postcopyAfterRounds' | 'timeoutMs'>;

/**
 * QEMU pre-copy (migration/ram.c + migration_trigger_throttle) one step at a time, so each round can
 * be a real message and the dirty rate can be re-read from the guest's workload before every round
 * (`next(dirtyRateBytesPerSecond)`). Pure and deterministic: times are model times (bytes /
 * bandwidth), the caller paces them on its clock. `simulatePreCopyMigration` is this loop with a
 * constant dirty rate. After a terminal step (`stop_and_copy`, `postcopy`, `abort`) `next` throws.
 * @throws InvalidArgumentError naming the field for bad sizes/parameters (see simulatePreCopyMigration)
 *   or a negative / non-finite dirty rate passed to `next` (`dirty_rate_bytes_per_second`).
 */
export class PreCopyMigration {
  private readonly p: Resolved;
  private readonly deviceBytes: number;
  private readonly roundsDone: MigrationRound[] = [];
  private remaining: number;
  private elapsed = 0;
  private sent = 0;
  private throttle = 0;
  private maxThrottle = 0;
  private highCount = 0;
  private finished: PreCopyStep | undefined;
  private forceRequested = false;

  constructor(private readonly sizes: PreCopySizes, params: MigrationParameters = {}) {
    this.p = resolveParameters(params);
    validateParameters(sizes, this.p);
    this.deviceBytes = sizes.deviceStateBytes ?? 0;
    this.remaining = sizes.ramBytes;
  }

  /** Bytes still to send (the dirty set after the last round; all RAM before round 0). */
  get remainingBytes(): number {
    return this.remaining;
  }
  /** Bytes sent so far (rounds, plus the final copy once terminal). */
  get transferredBytes(): number {
    return this.sent;
  }
  /** Model time so far, ms (sum of round durations, plus the final copy once terminal). */
  get elapsedMs(): number {
    return this.elapsed;
  }
  /** vCPU throttle in force for the next round, percent. */
  get throttlePct(): number {
    return this.throttle;
  }
  /** Highest throttle applied, percent. */
  get maxThrottlePct(): number {
    return this.maxThrottle;
  }
  get rounds(): readonly MigrationRound[] {
    return this.roundsDone;
  }
  get parameters(): Readonly<Resolved> {
    return this.p;
  }
  /** The terminal step, once reached. */
  get outcome(): PreCopyStep | undefined {
    return this.finished;
  }
  /** True once {@link requestForceComplete} was called. */
  get forceCompleteRequested(): boolean {
    return this.forceRequested;
  }

  /**
   * Nova's force-complete of a running live migration (`POST /servers/{id}/migrations/{id}/action`
   * force_complete; libvirt's virDomainMigrateStartPostCopy or virDomainSuspend): the next `next()`
   * ends the migration as the force_complete timeout action does, post-copy when permitted, else a
   * stop-and-copy of everything left. The round in flight finishes first: the model plans whole rounds.
   * @throws InvalidArgumentError ('step') once the migration has ended.
   */
  requestForceComplete(): void {
    if (this.finished) throw new InvalidArgumentError('step', `migration already ended (${this.finished.kind})`);
    this.forceRequested = true;
  }

  /**
   * Plans and accounts the next step. `dirtyRateBytesPerSecond` is the unthrottled guest's dirty
   * rate now (bytes/s); the throttle in force scales it by (100 - throttle) %.
   */
  next(dirtyRateBytesPerSecond: number): PreCopyStep {
    if (this.finished) throw new InvalidArgumentError('step', `migration already ended (${this.finished.kind})`);
    if (!(dirtyRateBytesPerSecond >= 0) || !Number.isFinite(dirtyRateBytesPerSecond)) {
      throw new InvalidArgumentError('dirty_rate_bytes_per_second', `must be a finite number >= 0, got ${dirtyRateBytesPerSecond}`);
    }
    const p = this.p;
    const bw = p.maxBandwidthBytesPerSecond;
    const index = this.roundsDone.length;
    if (index > 0 && (this.remaining / bw) * 1000 <= p.downtimeLimitMs) {
      const downtimeMs = ((this.remaining + this.deviceBytes) / bw) * 1000;
      return this.end({ kind: 'stop_and_copy', remainingBytes: this.remaining, deviceStateBytes: this.deviceBytes, downtimeMs }, downtimeMs);
    }
    if (p.postcopyAfterRounds !== undefined && index >= Math.max(1, p.postcopyAfterRounds)) {
      const downtimeMs = (this.deviceBytes / bw) * 1000;
      const pullMs = (this.remaining / bw) * 1000;
      return this.end({ kind: 'postcopy', remainingBytes: this.remaining, deviceStateBytes: this.deviceBytes, downtimeMs, pullMs }, downtimeMs + pullMs);
    }
    if (this.forceRequested) return this.forceComplete();
    if (index >= p.maxRounds) return this.end({ kind: 'abort', reason: 'max_rounds' }, -1);
    const durationMs = (this.remaining / bw) * 1000;
    if (p.timeoutMs !== undefined && this.elapsed + durationMs > p.timeoutMs) {
      if (p.timeoutAction === 'force_complete') return this.forceComplete();
      this.elapsed = p.timeoutMs;
      return this.end({ kind: 'abort', reason: 'timeout' }, -1);
    }
    const dirtied = Math.min(this.sizes.ramBytes, dirtyRateBytesPerSecond * (1 - this.throttle / 100) * (durationMs / 1000));
    const round: MigrationRound = { index, sentBytes: this.remaining, durationMs, dirtiedBytes: dirtied, throttlePct: this.throttle };
    this.roundsDone.push(round);
    this.elapsed += durationMs;
    this.sent += this.remaining;
    if (p.autoConverge && dirtied > (this.remaining * p.throttleTriggerThresholdPct) / 100 && ++this.highCount >= 2) {
      this.highCount = 0;
      this.throttle = this.throttle === 0 ? p.cpuThrottleInitialPct : Math.min(this.throttle + p.cpuThrottleIncrementPct, p.maxCpuThrottlePct);
      this.maxThrottle = Math.max(this.maxThrottle, this.throttle);
    }
    this.remaining = dirtied;
    return { kind: 'round', round };
  }

  /**
   * Nova's force_complete: post-copy when permitted (the guest resumes on the destination after the
   * device state and pulls the rest), else the guest is paused and everything left goes in one
   * stop-and-copy, however long (libvirt's virDomainSuspend, then the copy converges by itself).
   */
  private forceComplete(): PreCopyStep {
    const bw = this.p.maxBandwidthBytesPerSecond;
    if (this.p.permitPostCopy) {
      const downtimeMs = (this.deviceBytes / bw) * 1000;
      const pullMs = (this.remaining / bw) * 1000;
      return this.end({ kind: 'postcopy', remainingBytes: this.remaining, deviceStateBytes: this.deviceBytes, downtimeMs, pullMs }, downtimeMs + pullMs);
    }
    const downtimeMs = ((this.remaining + this.deviceBytes) / bw) * 1000;
    return this.end({ kind: 'stop_and_copy', remainingBytes: this.remaining, deviceStateBytes: this.deviceBytes, downtimeMs }, downtimeMs);
  }

  /** Records a terminal step; `extraMs` < 0 means nothing more was sent (abort). */
  private end(step: PreCopyStep, extraMs: number): PreCopyStep {
    if (extraMs >= 0) {
      this.elapsed += extraMs;
      this.sent += this.remaining + this.deviceBytes;
    }
    this.finished = step;
    return step;
  }
}

/** QEMU defaults filled in. */
export function resolveParameters(p: MigrationParameters): Resolved {
  const d = QEMU_MIGRATION_DEFAULTS;
  return {
    maxBandwidthBytesPerSecond: p.maxBandwidthBytesPerSecond ?? d.maxBandwidthBytesPerSecond,
    downtimeLimitMs: p.downtimeLimitMs ?? d.downtimeLimitMs,
    autoConverge: p.autoConverge ?? false,
    cpuThrottleInitialPct: p.cpuThrottleInitialPct ?? d.cpuThrottleInitialPct,
    cpuThrottleIncrementPct: p.cpuThrottleIncrementPct ?? d.cpuThrottleIncrementPct,
    maxCpuThrottlePct: p.maxCpuThrottlePct ?? d.maxCpuThrottlePct,
    throttleTriggerThresholdPct: p.throttleTriggerThresholdPct ?? d.throttleTriggerThresholdPct,
    postcopyAfterRounds: p.postcopyAfterRounds,
    timeoutMs: p.timeoutMs,
    timeoutAction: p.timeoutAction ?? 'abort',
    permitPostCopy: p.permitPostCopy ?? false,
    maxRounds: p.maxRounds ?? 10_000,
  };
}

function validateParameters(w: PreCopySizes, p: Resolved): void {
  const positive: [string, number][] = [['workload.ram_bytes', w.ramBytes], ['max_bandwidth_bytes_per_second', p.maxBandwidthBytesPerSecond]];
  for (const [f, v] of positive) if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(f, `must be > 0, got ${v}`);
  const nonNeg: [string, number | undefined][] = [
    ['workload.device_state_bytes', w.deviceStateBytes ?? 0],
    ['downtime_limit_ms', p.downtimeLimitMs], ['timeout_ms', p.timeoutMs ?? 0], ['postcopy_after_rounds', p.postcopyAfterRounds ?? 0],
  ];
  for (const [f, v] of nonNeg) if (!(v! >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(f, `must be >= 0, got ${v}`);
  const pct: [string, number][] = [
    ['cpu_throttle_initial_pct', p.cpuThrottleInitialPct], ['cpu_throttle_increment_pct', p.cpuThrottleIncrementPct],
    ['max_cpu_throttle_pct', p.maxCpuThrottlePct],
  ];
  for (const [f, v] of pct) if (!(v >= 1 && v <= 99)) throw new InvalidArgumentError(f, `must be in 1..99, got ${v}`);
  if (!(p.throttleTriggerThresholdPct >= 1 && p.throttleTriggerThresholdPct <= 100)) {
    throw new InvalidArgumentError('throttle_trigger_threshold_pct', `must be in 1..100, got ${p.throttleTriggerThresholdPct}`);
  }
}
