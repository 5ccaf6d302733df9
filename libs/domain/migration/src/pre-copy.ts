import { InvalidArgumentError } from '@minicloud/domain-errors';
import { PreCopyMigration } from './pre-copy-stepper';

/**
 * QEMU's live-migration defaults (qemu/migration/options.c, `migration_properties`):
 * downtime-limit 300 ms, max-bandwidth 128 MiB/s (MAX_THROTTLE = 128 << 20 bytes/s),
 * cpu-throttle-initial 20 %, cpu-throttle-increment 10 %, max-cpu-throttle 99 %,
 * throttle-trigger-threshold 50 %.
 */
export const QEMU_MIGRATION_DEFAULTS = Object.freeze({
  downtimeLimitMs: 300,
  maxBandwidthBytesPerSecond: 128 * 1024 * 1024,
  cpuThrottleInitialPct: 20,
  cpuThrottleIncrementPct: 10,
  maxCpuThrottlePct: 99,
  throttleTriggerThresholdPct: 50,
});

/** What is being migrated and how fast the guest writes memory. */
export interface MigrationWorkload {
  /** Guest RAM, bytes (> 0). */
  readonly ramBytes: number;
  /**
   * Dirty-page rate of the unthrottled guest, bytes/s (>= 0). With a vCPU throttle of p %, the
   * guest runs (100 - p) % of the time and dirties proportionally less (QEMU cpu_throttle).
   */
  readonly dirtyRateBytesPerSecond: number;
  /** Device state sent during the stop-and-copy, bytes (default 0). */
  readonly deviceStateBytes?: number;
}

/** Migration parameters (`migrate-set-parameters`); every field optional, QEMU defaults apply. */
export interface MigrationParameters {
  readonly maxBandwidthBytesPerSecond?: number;
  readonly downtimeLimitMs?: number;
  /** `migrate-set-capabilities auto-converge on`. */
  readonly autoConverge?: boolean;
  readonly cpuThrottleInitialPct?: number;
  readonly cpuThrottleIncrementPct?: number;
  readonly maxCpuThrottlePct?: number;
  readonly throttleTriggerThresholdPct?: number;
  /**
   * Post-copy: after this many pre-copy rounds without convergence the VM resumes on the
   * destination and the remaining pages are pulled on demand (`migrate-start-postcopy`).
   * Undefined = no post-copy.
   */
  readonly postcopyAfterRounds?: number;
  /** Abort (VM keeps running on the source) when the migration has not finished after this long, ms. */
  readonly timeoutMs?: number;
  /** Safety stop for the round loop (default 10,000). */
  readonly maxRounds?: number;
}

/** One pre-copy round: what was sent, how long it took, what the guest dirtied meanwhile. */
export interface MigrationRound {
  readonly index: number;
  readonly sentBytes: number;
  readonly durationMs: number;
  readonly dirtiedBytes: number;
  /** vCPU throttle in force during the round, percent. */
  readonly throttlePct: number;
}

/** Result of a simulated migration. */
export interface MigrationOutcome {
  readonly status: 'completed' | 'aborted';
  /** 'precopy' or 'postcopy' when completed; for an abort, the reason 'timeout' | 'max_rounds'. */
  readonly mode: 'precopy' | 'postcopy' | 'timeout' | 'max_rounds';
  readonly rounds: readonly MigrationRound[];
  /** Everything sent (pre-copy rounds + stop-and-copy or post-copy pull), bytes. */
  readonly totalBytes: number;
  readonly totalTimeMs: number;
  /** Time the guest is paused (0 when aborted: it never stopped on the source), ms. */
  readonly downtimeMs: number;
  /** Highest vCPU throttle applied, percent. */
  readonly finalThrottlePct: number;
}

/**
 * Simulates QEMU pre-copy live migration (migration/ram.c):
 * round 0 sends all RAM at the bandwidth limit; each later round sends the pages dirtied during the
 * previous one; when `remaining_bytes / bandwidth <= downtime_limit` the guest stops and the rest
 * plus the device state are sent (stop-and-copy), so downtime never exceeds the limit (plus the
 * device state time).
 *
 * Auto-converge follows QEMU's `migration_trigger_throttle`: at each dirty-bitmap sync (end of a
 * round), if the bytes dirtied in the period exceed `throttle-trigger-threshold` (50 %) of the bytes
 * transferred in it, `dirty_rate_high_cnt` is incremented, and when it reaches 2 the throttle starts
 * at `cpu-throttle-initial` or grows by `cpu-throttle-increment` up to `max-cpu-throttle`
 * (`mig_throttle_guest_down`), and the counter resets.
 *
 * The dirty set of a round is capped at the guest RAM (a page dirtied twice is sent once).
 * @throws InvalidArgumentError naming the field for a non-positive RAM or bandwidth, negative
 *   dirty rate, downtime or timeout, or throttle percentages outside 0..99.
 */
export function simulatePreCopyMigration(workload: MigrationWorkload, params: MigrationParameters = {}): MigrationOutcome {
  if (!(workload.dirtyRateBytesPerSecond >= 0) || !Number.isFinite(workload.dirtyRateBytesPerSecond)) {
    throw new InvalidArgumentError('workload.dirty_rate_bytes_per_second', `must be >= 0, got ${workload.dirtyRateBytesPerSecond}`);
  }
  const m = new PreCopyMigration(workload, params);
  for (;;) {
    const step = m.next(workload.dirtyRateBytesPerSecond);
    if (step.kind === 'round') continue;
    const common = { rounds: m.rounds, totalBytes: m.transferredBytes, totalTimeMs: m.elapsedMs, finalThrottlePct: m.maxThrottlePct };
    if (step.kind === 'abort') return { status: 'aborted', mode: step.reason, downtimeMs: 0, ...common };
    return { status: 'completed', mode: step.kind === 'postcopy' ? 'postcopy' : 'precopy', downtimeMs: step.downtimeMs, ...common };
  }
}
