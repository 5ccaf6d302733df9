import { countNonZeroBeginning, iqr, linearRegression, loessEstimates, mad, median, robustLoessEstimates, trimZeroTail } from './statistics';

describe('CloudSim MathUtil statistics', () => {
  it('median interpolates like Apache percentile(50)', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it('mad is the median of absolute deviations', () => {
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
  });
  it('iqr uses Java Math.round quartile positions', () => {
    // n = 12: q1 = round(3.25) - 1 = 2, q3 = round(9.75) - 1 = 9
    expect(iqr([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1])).toBe(10 - 3);
  });
  it('countNonZeroBeginning / trimZeroTail keep at least one value', () => {
    expect(countNonZeroBeginning([0.5, 0.2, 0, 0])).toBe(2);
    expect(trimZeroTail([0, 0, 0])).toEqual([0]);
    expect(trimZeroTail([])).toEqual([0]);
  });
  it('loess is a plain least-squares line on x = 1..n (no tricube weight is zero)', () => {
    const y = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    const [a, b] = loessEstimates(y);
    expect(b).toBeCloseTo(0.1, 12);
    expect(a).toBeCloseTo(0, 12);
    const noisy = [0.2, 0.5, 0.1, 0.4, 0.3, 0.6, 0.2, 0.7, 0.4, 0.5];
    expect(loessEstimates(noisy)).toEqual(linearRegression(noisy.map((_, i) => i + 1), noisy));
    expect(robustLoessEstimates(noisy)[1]).toBeCloseTo(loessEstimates(noisy)[1], 12);
  });
});
