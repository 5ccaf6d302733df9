import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { AlarmState, ThresholdAlarm } from './threshold-alarm';

/** How a step's adjustment is read (AWS AdjustmentType). */
export type AdjustmentType = 'ChangeInCapacity' | 'PercentChangeInCapacity' | 'ExactCapacity';

/**
 * One step (AWS StepAdjustment): applies when (metric - threshold) lies in [lower, upper) for an
 * alarm on high values or (lower, upper] for one on low values; a missing bound is infinite.
 */
export interface StepAdjustment {
  readonly lowerBound?: number;
  readonly upperBound?: number;
  readonly adjustment: number;
}

/** Step scaling on an alarm: while the alarm is in 'alarm', the matching step adjusts capacity. */
export interface StepScalingPolicy {
  readonly alarm: ThresholdAlarm;
  readonly adjustmentType: AdjustmentType;
  readonly steps: readonly StepAdjustment[];
  /** For PercentChangeInCapacity: the smallest change in instances (AWS MinAdjustmentMagnitude). */
  readonly minAdjustmentMagnitude?: number;
}

/**
 * @throws InvalidArgumentError naming `steps` (empty, or overlapping intervals) or `adjustment`.
 */
export function validateStepScaling(p: StepScalingPolicy): void {
  if (p.steps.length === 0) throw new InvalidArgumentError('steps', 'needs at least one step');
  const sorted = [...p.steps].sort((a, b) => (a.lowerBound ?? -Infinity) - (b.lowerBound ?? -Infinity));
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i];
    if (!Number.isFinite(s.adjustment)) throw new InvalidArgumentError(`steps[${i}].adjustment`, 'must be a number');
    if ((s.lowerBound ?? -Infinity) >= (s.upperBound ?? Infinity)) throw new InvalidArgumentError(`steps[${i}]`, 'lower_bound must be < upper_bound');
    if (i > 0 && (sorted[i - 1].upperBound ?? Infinity) > (s.lowerBound ?? -Infinity)) throw new InvalidArgumentError('steps', 'step intervals overlap');
  }
  if (p.adjustmentType === 'ExactCapacity' && p.steps.some((s) => s.adjustment < 0)) throw new InvalidArgumentError('adjustment', 'an exact capacity cannot be negative');
}

/** Intervals are [lower, upper) for an alarm on high values and (lower, upper] for one on low values (lt/le). */
function matches(s: StepAdjustment, breach: number, lowAlarm: boolean): boolean {
  const lo = s.lowerBound ?? -Infinity;
  const hi = s.upperBound ?? Infinity;
  return lowAlarm ? breach > lo && breach <= hi : breach >= lo && breach < hi;
}

/**
 * The capacity a step policy asks for, or null (alarm not firing, or no step matches).
 * Percent changes round toward zero but move at least one instance (and at least
 * `minAdjustmentMagnitude`), as AWS does.
 */
export function stepScalingDesired(p: StepScalingPolicy, alarmState: AlarmState, metricValue: number, currentDesired: number): number | null {
  if (alarmState !== 'alarm') return null;
  const lowAlarm = p.alarm.comparisonOperator === 'lt' || p.alarm.comparisonOperator === 'le';
  const step = p.steps.find((s) => matches(s, metricValue - p.alarm.threshold, lowAlarm));
  if (!step) return null;
  switch (p.adjustmentType) {
    case 'ExactCapacity':
      return step.adjustment;
    case 'ChangeInCapacity':
      return currentDesired + step.adjustment;
    case 'PercentChangeInCapacity': {
      const raw = (currentDesired * step.adjustment) / 100;
      if (raw === 0) return currentDesired;
      let change = Math.trunc(raw);
      if (change === 0) change = Math.sign(raw);
      const min = p.minAdjustmentMagnitude ?? 0;
      if (Math.abs(change) < min) change = Math.sign(raw) * min;
      return currentDesired + change;
    }
  }
}
