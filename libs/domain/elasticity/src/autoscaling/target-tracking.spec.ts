import { TARGET_TRACKING_DEFAULTS, TargetTrackingPolicy, targetTrackingDesired, validateTargetTracking } from './target-tracking';

const cpu50: TargetTrackingPolicy = { metric: 'average_cpu_percent', targetValue: 50, ...TARGET_TRACKING_DEFAULTS };
const rep = (v: number, n: number) => Array.from({ length: n }, () => v);
const at = (values: number[], capacity: number) => values.map((value) => ({ value, capacity }));

describe('targetTrackingDesired', () => {
  it.each<[string, number[], number, number, number | null]>([
    ['3 points at 100 % on 2 -> 4', [100, 100, 100], 2, 2, 4],
    ['needs 3 consecutive points above', [100, 40, 100], 2, 2, null],
    ['latest point sets the size', [60, 80, 95], 4, 4, 8],
    ['already coming (warming) -> no change', [100, 100, 100], 2, 4, null],
    ['on target -> no change', rep(50, 20), 4, 4, null],
    ['15 points under -> in, by the window peak', [...rep(20, 14), 30], 10, 10, 6],
    ['14 points under is not enough', rep(20, 14), 10, 10, null],
    ['never below 1', rep(1, 15), 3, 3, 1],
    ['nothing measured -> no change', [100, 100, 100], 0, 2, null],
  ])('%s', (_, history, measured, desired, expected) => {
    expect(targetTrackingDesired(cpu50, at(history, measured), desired)).toBe(expected);
  });

  it('an instance leaving the measurement does not look like spare capacity', () => {
    // 9 members at 46 %, then one replaced: 8 measured at 52 %. Load 414 -> 416: stay at 9.
    const history = [...at(rep(46, 14), 9), { value: 52, capacity: 8 }];
    expect(targetTrackingDesired(cpu50, history, 9)).toBeNull();
  });

  it('scale-in can be disabled', () => {
    expect(targetTrackingDesired({ ...cpu50, disableScaleIn: true }, at(rep(10, 15), 6), 6)).toBeNull();
  });

  it('after a scale-out by the rule, the modelled metric is at or under target', () => {
    for (const load of [51, 73, 99, 100]) {
      const want = targetTrackingDesired(cpu50, at(rep(load, 3), 3), 3)!;
      expect((3 * load) / want).toBeLessThanOrEqual(50);
    }
  });
});

describe('validateTargetTracking', () => {
  it.each([
    [{ targetValue: 0 }, 'target_value'],
    [{ targetValue: 120 }, 'target_value'],
    [{ scaleInDatapoints: 0 }, 'scale_in_datapoints'],
    [{ metric: 'memory' }, 'metric'],
  ])('%o -> %s', (patch, field) => {
    expect(() => validateTargetTracking({ ...cpu50, ...(patch as object) })).toThrow(field);
  });
  it('a requests-per-member target may exceed 100', () => {
    expect(() => validateTargetTracking({ ...cpu50, metric: 'requests_per_member', targetValue: 500 })).not.toThrow();
  });
});
