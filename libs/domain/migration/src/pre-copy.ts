import { InvalidArgumentError } from '@minicloud/domain-errors';

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
  const p = resolve(params);
  validate(workload, p);
  const bw = p.maxBandwidthBytesPerSecond;
  const deviceBytes = workload.deviceStateBytes ?? 0;
  const rounds: MigrationRound[] = [];
  let remaining = workload.ramBytes;
  let elapsedMs = 0;
  let totalBytes = 0;
  let throttle = 0;
  let maxThrottle = 0;
  let highCount = 0;
  for (let index = 0; ; index++) {
    if (remaining / bw * 1000 <= p.downtimeLimitMs && index > 0) {
      const downtimeMs = ((remaining + deviceBytes) / bw) * 1000;
      return done('precopy', elapsedMs + downtimeMs, totalBytes + remaining + deviceBytes, downtimeMs);
    }
    if (p.postcopyAfterRounds !== undefined && index >= Math.max(1, p.postcopyAfterRounds)) {
      // Resume on the destination after the device state; remaining pages are pulled once.
      const downtimeMs = (deviceBytes / bw) * 1000;
      return done('postcopy', elapsedMs + ((remaining + deviceBytes) / bw) * 1000, totalBytes + remaining + deviceBytes, downtimeMs);
    }
    if (index >= p.maxRounds) return aborted('max_rounds');
    const durationMs = (remaining / bw) * 1000;
    if (p.timeoutMs !== undefined && elapsedMs + durationMs > p.timeoutMs) {
      return aborted('timeout', p.timeoutMs);
    }
    const dirtied = Math.min(workload.ramBytes, workload.dirtyRateBytesPerSecond * (1 - throttle / 100) * (durationMs / 1000));
    rounds.push({ index, sentBytes: remaining, durationMs, dirtiedBytes: dirtied, throttlePct: throttle });
    elapsedMs += durationMs;
    totalBytes += remaining;
    if (p.autoConverge && dirtied > (remaining * p.throttleTriggerThresholdPct) / 100 && ++highCount >= 2) {
      highCount = 0;
      throttle = throttle === 0 ? p.cpuThrottleInitialPct : Math.min(throttle + p.cpuThrottleIncrementPct, p.maxCpuThrottlePct);
      maxThrottle = Math.max(maxThrottle, throttle);
    }
    remaining = dirtied;
  }

  function done(mode: 'precopy' | 'postcopy', totalTimeMs: number, bytes: number, downtimeMs: number): MigrationOutcome {
    return { status: 'completed', mode, rounds, totalBytes: bytes, totalTimeMs, downtimeMs, finalThrottlePct: maxThrottle };
  }
  function aborted(mode: 'timeout' | 'max_rounds', at = elapsedMs): MigrationOutcome {
    return { status: 'aborted', mode, rounds, totalBytes, totalTimeMs: at, downtimeMs: 0, finalThrottlePct: maxThrottle };
  }
}

type Resolved = Required<Omit<MigrationParameters, 'postcopyAfterRounds' | 'timeoutMs'>> &
  Pick<MigrationParameters, 'postcopyAfterRounds' | 'timeoutMs'>;

function resolve(p: MigrationParameters): Resolved {
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
    maxRounds: p.maxRounds ?? 10_000,
  };
}

function validate(w: MigrationWorkload, p: Resolved): void {
  const positive: [string, number][] = [['workload.ram_bytes', w.ramBytes], ['max_bandwidth_bytes_per_second', p.maxBandwidthBytesPerSecond]];
  for (const [f, v] of positive) if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(f, `must be > 0, got ${v}`);
  const nonNeg: [string, number | undefined][] = [
    ['workload.dirty_rate_bytes_per_second', w.dirtyRateBytesPerSecond], ['workload.device_state_bytes', w.deviceStateBytes ?? 0],
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
