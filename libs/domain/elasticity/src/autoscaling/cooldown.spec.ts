import { inCooldown, isWarmingUp } from './cooldown';

describe('cooldown and warm-up', () => {
  it.each([
    [null, 300, 0, false],
    [0, 300, 299_999, true],
    [0, 300, 300_000, false],
    [1000, 0, 1000, false],
  ])('inCooldown(last %s, %d s, now %d) = %s', (last, cd, now, expected) => {
    expect(inCooldown(last, cd, now)).toBe(expected);
  });
  it.each([
    [0, 60, 59_999, true],
    [0, 60, 60_000, false],
  ])('isWarmingUp(launched %d, %d s, now %d) = %s', (at, w, now, expected) => {
    expect(isWarmingUp(at, w, now)).toBe(expected);
  });
});
