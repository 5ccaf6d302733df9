import { InvalidArgumentError } from '@minicloud/domain-errors';
import { createOverloadDetector, DetectorVm, hostUtilizationHistory } from './overload-detection';
import { minimumMigrationTime, minimumUtilization, randomSelection } from './vm-selection';

const vm = (requestedMips: number, history: number[] = [], mips = 1000, ramMb = 1000): DetectorVm => ({ requestedMips, mips, ramMb, history });
const host = (vms: DetectorVm[]) => ({ totalMips: 2000, bwMbps: 1000, vms });

describe('overload detectors (CloudSim 3.0.3)', () => {
  it('thr: requested / capacity strictly above the threshold', () => {
    const thr = createOverloadDetector({ kind: 'thr', thresholdRatio: 0.8 });
    expect(thr(host([vm(800), vm(800)]))).toBe(false); // exactly 0.8
    expect(thr(host([vm(800), vm(801)]))).toBe(true);
    expect(thr(host([vm(800)]), vm(900))).toBe(true); // with a candidate VM
  });

  it('adaptive detectors fall back to 0.7 with fewer than 12 (iqr/mad) or 10 (lr) samples', () => {
    for (const kind of ['iqr', 'mad', 'lr', 'lrr'] as const) {
      const d = createOverloadDetector({ kind, safetyParameter: 1.5 });
      expect(d(host([vm(1401, [0.5, 0.5])]))).toBe(true);
      expect(d(host([vm(1399, [0.5, 0.5])]))).toBe(false);
    }
  });

  it('mad: threshold 1 - s x MAD of the host history', () => {
    // host history alternates 0.2 / 0.4 (VM of 2000 MIPS on a 2000 MIPS host): MAD = 0.1 -> threshold 1 - 2.5 x 0.1 = 0.75
    const h = Array.from({ length: 20 }, (_, i) => (i % 2 ? 0.2 : 0.4));
    const d = createOverloadDetector({ kind: 'mad', safetyParameter: 2.5 });
    expect(d(host([vm(1480, h, 2000)]))).toBe(false);
    expect(d(host([vm(1520, h, 2000)]))).toBe(true);
  });

  it('lr: predicts the trend ceil(migration time / 300 s) intervals ahead, x safety >= 1', () => {
    // rising 0.05 per interval, newest first 0.9, 0.85, ... ; 1000 MB at 62.5 MB/s = 16 s -> 1 interval ahead
    const rising = Array.from({ length: 10 }, (_, i) => 0.9 - 0.05 * i);
    // fit y = 0.4 + 0.05 x on x = 1..10, prediction at x = 11: 0.95
    expect(createOverloadDetector({ kind: 'lr', safetyParameter: 1.0 })(host([vm(0, rising, 2000)]))).toBe(false);
    expect(createOverloadDetector({ kind: 'lr', safetyParameter: 1.1 })(host([vm(0, rising, 2000)]))).toBe(true);
  });

  it('host history sums VM ratios weighted by VM MIPS / host MIPS, newest first', () => {
    expect(hostUtilizationHistory(host([vm(0, [0.5, 1]), vm(0, [1])]))).toEqual([0.75, 0.5]);
  });

  it('rejects a non-positive parameter', () => {
    expect(() => createOverloadDetector({ kind: 'thr', thresholdRatio: 0 })).toThrow(InvalidArgumentError);
    expect(() => createOverloadDetector({ kind: 'lr', safetyParameter: -1 })).toThrow(/safety_parameter/);
  });
});

describe('VM selection', () => {
  const vms = [
    { ramMb: 1740, utilizationRatio: 0.1, inMigration: false },
    { ramMb: 613, utilizationRatio: 0.9, inMigration: true },
    { ramMb: 870, utilizationRatio: 0.5, inMigration: false },
    { ramMb: 870, utilizationRatio: 0.05, inMigration: false },
  ];
  it('mmt takes the smallest RAM not migrating, first on ties', () => expect(minimumMigrationTime(vms)).toBe(vms[2]));
  it('mu takes the least utilised', () => expect(minimumUtilization(vms)).toBe(vms[3]));
  it('rs picks among the non-migrating with the injected RNG', () => expect(randomSelection(() => 0.99)(vms)).toBe(vms[3]));
});
