import { seededRng } from './clock';

describe('seededRng', () => {
  it('is reproducible for a seed and stays in [0,1)', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(seededRng(43)()).not.toBe(seededRng(42)());
  });
});
