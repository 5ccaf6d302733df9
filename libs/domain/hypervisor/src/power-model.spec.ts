import { InvalidArgumentError } from '@minicloud/domain-errors';
import {
  HP_PROLIANT_ML110_G4_POWER as G4,
  HP_PROLIANT_ML110_G5_POWER as G5,
  powerWatts,
  specPowerModel,
} from './power-model';

describe('powerWatts', () => {
  // Hand-computed from the SPECpower tables in /work/shared/data/cloudsim-reference/README.md.
  it.each([
    ['G4 idle', G4, 0, 86],
    ['G4 at 50 %', G4, 0.5, 102],
    ['G4 at 45 %: halfway 99.5 -> 102', G4, 0.45, 100.75],
    ['G4 at 5 %: halfway 86 -> 89.4', G4, 0.05, 87.7],
    ['G4 at 93 %: 114 + 0.3 * 3', G4, 0.93, 114.9],
    ['G4 at 100 %', G4, 1, 117],
    ['G5 idle', G5, 0, 93.7],
    ['G5 at 50 %', G5, 0.5, 116],
    ['G5 at 45 %: halfway 110 -> 116', G5, 0.45, 113],
    ['G5 at 72 %: 125 + 0.2 * 4', G5, 0.72, 125.8],
    ['G5 at 100 %', G5, 1, 135],
  ])('%s', (_label, model, u, watts) => {
    expect(powerWatts(model, u)).toBeCloseTo(watts, 9);
  });

  it.each([-0.01, 1.0001, Number.NaN, Number.POSITIVE_INFINITY])('rejects utilization %p', (u) => {
    expect(() => powerWatts(G4, u)).toThrow(InvalidArgumentError);
    expect(() => powerWatts(G4, u)).toThrow(/utilization_ratio/);
  });

  it('is non-decreasing in load for both published tables', () => {
    for (const m of [G4, G5]) {
      let prev = -Infinity;
      for (let i = 0; i <= 1000; i++) {
        const w = powerWatts(m, i / 1000);
        expect(w).toBeGreaterThanOrEqual(prev - 1e-9);
        prev = w;
      }
    }
  });
});

describe('specPowerModel', () => {
  it('requires 11 values', () => {
    expect(() => specPowerModel('x', [1, 2, 3], 'test')).toThrow(/needs 11 values/);
  });
  it('rejects negative or non-finite watts, naming the index', () => {
    const w = [1, 2, 3, 4, 5, -6, 7, 8, 9, 10, 11];
    expect(() => specPowerModel('x', w, 'test')).toThrow(/watts_at_load_decile\[5\]/);
  });
  it('copies and freezes the table so a caller cannot change the model', () => {
    const w = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const m = specPowerModel('x', w, 'test');
    w[0] = 100;
    expect(m.wattsAtLoadDecile[0]).toBe(1);
    expect(Object.isFrozen(m.wattsAtLoadDecile)).toBe(true);
  });
});
