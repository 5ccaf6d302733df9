import { StepScalingPolicy, stepScalingDesired, validateStepScaling } from './step-scaling';

const alarm = { threshold: 60, comparisonOperator: 'gt' as const, evaluationPeriods: 2, periodSeconds: 60 };
const out: StepScalingPolicy = {
  alarm,
  adjustmentType: 'ChangeInCapacity',
  steps: [{ lowerBound: 0, upperBound: 20, adjustment: 1 }, { lowerBound: 20, adjustment: 3 }],
};

describe('stepScalingDesired', () => {
  it.each([
    ['alarm, +10 over -> +1', 'alarm', 70, 4, 5],
    ['alarm, exactly +20 -> upper step (lower bound inclusive above)', 'alarm', 80, 4, 7],
    ['alarm, +35 -> +3', 'alarm', 95, 4, 7],
    ['ok -> nothing', 'ok', 95, 4, null],
    ['insufficient data -> nothing', 'insufficient data', 95, 4, null],
  ] as const)('%s', (_, state, metric, desired, expected) => {
    expect(stepScalingDesired(out, state, metric, desired)).toBe(expected);
  });

  it('scale-in steps below the threshold use (lower, upper]', () => {
    const p: StepScalingPolicy = { alarm: { ...alarm, threshold: 30, comparisonOperator: 'lt' }, adjustmentType: 'ChangeInCapacity', steps: [{ upperBound: 0, adjustment: -1 }] };
    expect(stepScalingDesired(p, 'alarm', 20, 5)).toBe(4);
    expect(stepScalingDesired(p, 'alarm', 30, 5)).toBe(4);
  });

  it.each([
    [50, 10, undefined, 15],
    [10, 4, undefined, 5],
    [-10, 4, undefined, 3],
    [10, 4, 2, 6],
    [25, 10, undefined, 12],
  ])('PercentChangeInCapacity %d %% of %d (min magnitude %s) -> %d', (pct, desired, minMag, expected) => {
    const p: StepScalingPolicy = { alarm, adjustmentType: 'PercentChangeInCapacity', steps: [{ adjustment: pct }], minAdjustmentMagnitude: minMag };
    expect(stepScalingDesired(p, 'alarm', 61, desired)).toBe(expected);
  });

  it('ExactCapacity sets the size', () => {
    expect(stepScalingDesired({ alarm, adjustmentType: 'ExactCapacity', steps: [{ adjustment: 8 }] }, 'alarm', 99, 3)).toBe(8);
  });
});

describe('validateStepScaling', () => {
  it('accepts the policy above', () => expect(() => validateStepScaling(out)).not.toThrow());
  it.each([
    [{ steps: [] }, 'steps'],
    [{ steps: [{ lowerBound: 0, upperBound: 30, adjustment: 1 }, { lowerBound: 20, adjustment: 2 }] }, 'overlap'],
    [{ steps: [{ lowerBound: 10, upperBound: 10, adjustment: 1 }] }, 'lower_bound'],
    [{ adjustmentType: 'ExactCapacity', steps: [{ adjustment: -1 }] }, 'adjustment'],
  ])('%o -> %s', (patch, msg) => {
    expect(() => validateStepScaling({ ...out, ...(patch as object) })).toThrow(msg);
  });
});
