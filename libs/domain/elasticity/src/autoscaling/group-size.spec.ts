import { clampCapacity, validateGroupSize } from './group-size';

describe('validateGroupSize', () => {
  it.each([
    [{ minSize: 2, maxSize: 10, desiredCapacity: 2 }, null],
    [{ minSize: 0, maxSize: 0, desiredCapacity: 0 }, null],
    [{ minSize: 5, maxSize: 2, desiredCapacity: 3 }, 'min_size'],
    [{ minSize: 1, maxSize: 3, desiredCapacity: 4 }, 'desired_capacity'],
    [{ minSize: 1, maxSize: 101, desiredCapacity: 4 }, 'max_size'],
    [{ minSize: -1, maxSize: 3, desiredCapacity: 1 }, 'min_size'],
    [{ minSize: 1, maxSize: 3, desiredCapacity: 1.5 }, 'desired_capacity'],
  ])('%o -> %s', (s, field) => {
    if (field === null) expect(() => validateGroupSize(s)).not.toThrow();
    else expect(() => validateGroupSize(s)).toThrow(field);
  });
});

describe('clampCapacity', () => {
  it.each([
    [7, 2, 10, 7],
    [1, 2, 10, 2],
    [15, 2, 10, 10],
    [3.4, 2, 10, 3],
  ])('clamp(%d, %d, %d) = %d', (d, lo, hi, expected) => expect(clampCapacity(d, lo, hi)).toBe(expected));
});
