// QEMU migration vocabulary shared by the one-shot simulation (pre-copy.ts) and the step-wise
// stepper (pre-copy-stepper.ts): its own module so those two do not import each other.

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
  /** When the migration has not finished after this long, ms, `timeoutAction` applies. */
  readonly timeoutMs?: number;
  /**
   * What a timeout does (Nova's `[libvirt] live_migration_timeout_action`): `abort` (default; the VM
   * keeps running on the source) or `force_complete`: switch to post-copy when `permitPostCopy`, else
   * pause the guest so the rest is copied in one stop-and-copy (a downtime beyond the limit).
   */
  readonly timeoutAction?: 'abort' | 'force_complete';
  /** Nova's `live_migration_permit_post_copy`: a forced completion may switch to post-copy. */
  readonly permitPostCopy?: boolean;
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
