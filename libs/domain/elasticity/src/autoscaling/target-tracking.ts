import { InvalidArgumentError } from '@minicloud/domain-errors';

/** The metrics a target tracking policy follows (AWS ASGAverageCPUUtilization, ALBRequestCountPerTarget). */
export type TrackedMetric = 'average_cpu_percent' | 'requests_per_member';

/**
 * One datapoint of a per-instance average metric and the number of in-service instances (past
 * warm-up) it was averaged over; value x capacity is the group's total load at that time.
 */
export interface MetricDatapoint {
  readonly value: number;
  readonly capacity: number;
}

/**
 * Target tracking (AWS Auto Scaling semantics): keep `metric` at `targetValue`. Scale out after
 * `scaleOutDatapoints` consecutive datapoints above the target (AWS's high alarm: 3 of 3 one-minute
 * points), in proportion to the excess; scale in only after `scaleInDatapoints` consecutive points
 * below it (AWS's low alarm: 15 of 15), conservatively.
 */
export interface TargetTrackingPolicy {
  readonly metric: TrackedMetric;
  readonly targetValue: number;
  readonly disableScaleIn: boolean;
  readonly scaleOutDatapoints: number;
  readonly scaleInDatapoints: number;
}

/** Defaults of AWS target tracking with one datapoint per period. */
export const TARGET_TRACKING_DEFAULTS = { scaleOutDatapoints: 3, scaleInDatapoints: 15, disableScaleIn: false } as const;

/**
 * @throws InvalidArgumentError naming `target_value` (> 0; <= 100 for CPU) or the datapoint counts (1..100).
 */
export function validateTargetTracking(p: TargetTrackingPolicy): void {
  if (!(p.targetValue > 0)) throw new InvalidArgumentError('target_value', `must be > 0, got ${p.targetValue}`);
  if (p.metric === 'average_cpu_percent' && p.targetValue > 100) throw new InvalidArgumentError('target_value', `a CPU target is a percentage <= 100, got ${p.targetValue}`);
  if (p.metric !== 'average_cpu_percent' && p.metric !== 'requests_per_member') throw new InvalidArgumentError('metric', 'must be average_cpu_percent or requests_per_member');
  for (const [f, v] of [['scale_out_datapoints', p.scaleOutDatapoints], ['scale_in_datapoints', p.scaleInDatapoints]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 100) throw new InvalidArgumentError(f, `must be an integer in 1..100, got ${v}`);
  }
}

/**
 * The capacity target tracking asks for, or null for "no change".
 * `history` holds the datapoints (oldest first); `currentDesired` includes instances still warming
 * up, so a second scale-out waits until it would exceed what is already coming.
 * - Scale out: the last `scaleOutDatapoints` all above target -> ceil(latest load / target) where
 *   load = value x capacity, if that exceeds `currentDesired`.
 * - Scale in: the last `scaleInDatapoints` all below target -> ceil(max load in the window / target),
 *   so even the window's peak would stay at or under the target after removal; only if it is below
 *   `currentDesired`. Using each datapoint's own capacity keeps an instance that left the
 *   measurement (replaced, warming) from looking like spare capacity.
 * Percent-CPU and requests-per-member both scale linearly with 1 / capacity, which is what the
 * proportional rule assumes.
 */
export function targetTrackingDesired(p: TargetTrackingPolicy, history: readonly MetricDatapoint[], currentDesired: number): number | null {
  const load = (d: MetricDatapoint) => d.value * d.capacity;
  const out = history.slice(-p.scaleOutDatapoints);
  if (out.length === p.scaleOutDatapoints && out.every((d) => d.capacity > 0 && d.value > p.targetValue)) {
    const want = Math.ceil(load(out[out.length - 1]) / p.targetValue - 1e-9);
    return want > currentDesired ? want : null;
  }
  if (p.disableScaleIn) return null;
  const win = history.slice(-p.scaleInDatapoints);
  if (win.length === p.scaleInDatapoints && win.every((d) => d.capacity > 0 && d.value < p.targetValue)) {
    const want = Math.max(1, Math.ceil(Math.max(...win.map(load)) / p.targetValue - 1e-9));
    return want < currentDesired ? want : null;
  }
  return null;
}
