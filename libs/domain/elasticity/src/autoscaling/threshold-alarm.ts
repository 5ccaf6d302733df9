import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Aodh comparison operators. */
export type ComparisonOperator = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

/** Aodh alarm states. */
export type AlarmState = 'ok' | 'alarm' | 'insufficient data';

/**
 * A threshold alarm over one metric, as Aodh's threshold rule: the statistic of each
 * `periodSeconds` window is compared with `threshold`; `evaluationPeriods` windows decide.
 */
export interface ThresholdAlarm {
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly periodSeconds: number;
}

const COMPARE: Record<ComparisonOperator, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
};

/**
 * Checks an alarm: evaluation_periods 1..100, period_seconds >= 1, a known operator.
 * @throws InvalidArgumentError naming the field.
 */
export function validateAlarm(a: ThresholdAlarm): void {
  if (!(a.comparisonOperator in COMPARE)) throw new InvalidArgumentError('comparison_operator', `must be one of ${Object.keys(COMPARE).join(', ')}`);
  if (!Number.isInteger(a.evaluationPeriods) || a.evaluationPeriods < 1 || a.evaluationPeriods > 100) {
    throw new InvalidArgumentError('evaluation_periods', `must be an integer in 1..100, got ${a.evaluationPeriods}`);
  }
  if (!(a.periodSeconds >= 1)) throw new InvalidArgumentError('period_seconds', `must be >= 1, got ${a.periodSeconds}`);
  if (!Number.isFinite(a.threshold)) throw new InvalidArgumentError('threshold', 'must be a finite number');
}

/** True when one datapoint breaches the alarm's threshold. */
export function breaches(a: ThresholdAlarm, value: number): boolean {
  return COMPARE[a.comparisonOperator](value, a.threshold);
}

/**
 * The alarm's next state from the latest datapoints (oldest first), as Aodh's threshold evaluator:
 * fewer than `evaluationPeriods` datapoints -> 'insufficient data'; the last `evaluationPeriods`
 * all breaching -> 'alarm', none breaching -> 'ok' (an unequivocal transition); a mix keeps the
 * previous state, except that out of 'insufficient data' the most recent datapoint decides.
 */
export function evaluateAlarm(a: ThresholdAlarm, datapoints: readonly number[], previous: AlarmState): AlarmState {
  if (datapoints.length < a.evaluationPeriods) return 'insufficient data';
  const window = datapoints.slice(-a.evaluationPeriods).map((v) => breaches(a, v));
  if (window.every(Boolean)) return 'alarm';
  if (!window.some(Boolean)) return 'ok';
  if (previous === 'insufficient data') return window[window.length - 1] ? 'alarm' : 'ok';
  return previous;
}
