import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { MigrationParameters, MigrationRound, MigrationWorkload } from './migration-parameters';
import { PreCopyMigration } from './pre-copy-stepper';

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
