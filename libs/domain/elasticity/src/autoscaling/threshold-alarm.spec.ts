import { AlarmState, evaluateAlarm, ThresholdAlarm, validateAlarm } from './threshold-alarm';

const high: ThresholdAlarm = { threshold: 70, comparisonOperator: 'gt', evaluationPeriods: 3, periodSeconds: 60 };

describe('evaluateAlarm', () => {
  it.each<[number[], AlarmState, AlarmState]>([
    [[80, 90], 'ok', 'insufficient data'],
    [[80, 90, 75], 'ok', 'alarm'],
    [[10, 80, 90, 75], 'ok', 'alarm'],
    [[50, 60, 70], 'alarm', 'ok'],
    [[80, 60, 90], 'ok', 'ok'],
    [[80, 60, 90], 'alarm', 'alarm'],
    [[80, 60, 90], 'insufficient data', 'alarm'],
    [[80, 90, 60], 'insufficient data', 'ok'],
  ])('%j from %s -> %s', (points, prev, next) => {
    expect(evaluateAlarm(high, points, prev)).toBe(next);
  });
  it.each([
    ['ge', 70, true],
    ['lt', 69, true],
    ['le', 70, true],
    ['eq', 70, true],
    ['ne', 70, false],
  ] as const)('operator %s on %d -> alarm=%s', (op, v, alarm) => {
    const a = { ...high, comparisonOperator: op, evaluationPeriods: 1 };
    expect(evaluateAlarm(a, [v], 'ok')).toBe(alarm ? 'alarm' : 'ok');
  });
});

describe('validateAlarm', () => {
  it.each([
    [{ evaluationPeriods: 0 }, 'evaluation_periods'],
    [{ periodSeconds: 0 }, 'period_seconds'],
    [{ comparisonOperator: 'gte' }, 'comparison_operator'],
    [{ threshold: Number.NaN }, 'threshold'],
  ])('%o -> %s', (patch, field) => {
    expect(() => validateAlarm({ ...high, ...(patch as object) })).toThrow(field);
  });
});
