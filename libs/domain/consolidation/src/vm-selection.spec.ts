import { correlationCoefficients, maximumCorrelation, minimumMigrationTime } from './vm-selection';

const vm = (ramMb: number, history: number[], inMigration = false) => ({ ramMb, utilizationRatio: history[0] ?? 0, inMigration, history });

describe('maximum correlation (MC) VM selection', () => {
  // c is almost a linear combination of a and b (a small wobble keeps the system regular); d is noise.
  const a = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.2, 0.3, 0.7, 0.1, 0.4, 0.2];
  const b = [0.2, 0.1, 0.4, 0.1, 0.3, 0.2, 0.5, 0.1, 0.2, 0.3, 0.1, 0.4];
  const c = a.map((x, i) => 0.5 * x + 0.3 * b[i] + (i % 2 ? 0.001 : -0.001));
  const d = [0.5, 0.1, 0.1, 0.9, 0.2, 0.8, 0.3, 0.3, 0.1, 0.6, 0.2, 0.7];

  it('R^2 is close to 1 for a VM the others explain, lower for noise', () => {
    const r2 = correlationCoefficients([a, b, c, d])!;
    expect(r2[2]).toBeGreaterThan(0.999);
    expect(r2[3]).toBeLessThan(0.9);
  });

  it('picks the VM with the highest R^2, skipping migrating VMs', () => {
    const vms = [vm(100, d), vm(100, a), vm(100, b), vm(100, c)];
    const r2 = correlationCoefficients([d, a, b, c])!;
    const best = r2.indexOf(Math.max(...r2));
    expect(best).not.toBe(0);
    expect(maximumCorrelation()(vms)).toBe(vms[best]);
    const moving = [vm(100, d), vm(100, a), vm(100, b), vm(100, c, true)];
    const r2b = correlationCoefficients([d, a, b])!;
    expect(maximumCorrelation()(moving)).toBe(moving[r2b.indexOf(Math.max(...r2b))]);
  });

  it('falls back (MMT) when histories are too short for the regression', () => {
    const vms = [vm(300, [0.1, 0.2]), vm(100, [0.3, 0.1]), vm(200, [0.2, 0.2])];
    expect(correlationCoefficients(vms.map((v) => v.history))).toBeUndefined();
    expect(maximumCorrelation(minimumMigrationTime)(vms)).toBe(vms[1]);
  });

  it('falls back on a singular system (two identical histories)', () => {
    const vms = [vm(300, a), vm(100, a), vm(200, b)];
    expect(maximumCorrelation(minimumMigrationTime)(vms)).toBe(vms[1]);
  });

  it('returns undefined when every VM migrates', () => {
    expect(maximumCorrelation()([vm(1, a, true)])).toBeUndefined();
  });
});
