import { readdirSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { createWorkload, parsePlanetLabTrace, planetLabUtilizationRatio } from './workload';

// The shared data folder sits beside the repository (../shared/data), in CI as on developer machines.
const TRACE_DIR = resolve(__dirname, '../../../../../shared/data/planetlab/20110303');
const S = 1000;

describe('PlanetLab trace (real file 146-179_surfsnel_dsl_internl_net_colostate_557 of 20110303)', () => {
  // The file starts 24, 34, 29, 26, 26 and ends 22, 20, 51.
  const samples = parsePlanetLabTrace(readFileSync(join(TRACE_DIR, '146-179_surfsnel_dsl_internl_net_colostate_557'), 'utf8'));

  it('parses 288 integer percentages', () => {
    expect(samples).toHaveLength(288);
    expect(samples.slice(0, 5)).toEqual([24, 34, 29, 26, 26]);
    expect(samples.slice(-3)).toEqual([22, 20, 51]);
  });

  // CloudSim UtilizationModelPlanetLabInMemory: linear between samples; data[288] = data[287].
  it.each([
    ['t = 0: first sample', 0, 0.24],
    ['t = 150 s: halfway 24 -> 34', 150 * S, 0.29],
    ['t = 300 s: second sample', 300 * S, 0.34],
    ['t = 450 s: halfway 34 -> 29', 450 * S, 0.315],
    ['t = 286 x 300 + 75 s: quarter way 20 -> 51', (286 * 300 + 75) * S, 0.2775],
    ['t = 287 x 300 s: last sample', 287 * 300 * S, 0.51],
    ['t = 287 x 300 + 150 s: flat after the last sample', (287 * 300 + 150) * S, 0.51],
    ['t = 1 day: wraps to the first sample', 86_400 * S, 0.24],
    ['t = 1 day + 150 s: wraps, interpolated', (86_400 + 150) * S, 0.29],
  ])('%s', (_label, tMs, ratio) => {
    expect(planetLabUtilizationRatio(samples, tMs)).toBeCloseTo(ratio, 12);
    expect(createWorkload({ kind: 'planetlab', samplesPercent: samples }).cpuUtilizationRatio(tMs)).toBeCloseTo(ratio, 12);
  });

  it('parses every trace file of the day', () => {
    const files = readdirSync(TRACE_DIR);
    expect(files.length).toBe(1052);
    for (const f of files) expect(parsePlanetLabTrace(readFileSync(join(TRACE_DIR, f), 'utf8'))).toHaveLength(288);
  });
});

describe('parsePlanetLabTrace validation', () => {
  const good = Array.from({ length: 288 }, (_, i) => String(i % 101));
  it('accepts CRLF and no final newline', () => {
    expect(parsePlanetLabTrace(good.join('\r\n'))).toHaveLength(288);
  });
  it.each([
    ['287 lines', good.slice(1).join('\n'), 'trace'],
    ['289 lines', [...good, '5'].join('\n'), 'trace'],
    ['a fraction on line 3', ['1', '2', '3.5', ...good.slice(3)].join('\n'), 'trace.line[3]'],
    ['101 %', ['101', ...good.slice(1)].join('\n'), 'trace.line[1]'],
    ['a negative', ['-1', ...good.slice(1)].join('\n'), 'trace.line[1]'],
    ['an empty line', ['', ...good.slice(1)].join('\n'), 'trace.line[1]'],
  ])('rejects %s', (_label, text, field) => {
    try {
      parsePlanetLabTrace(text);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).field).toBe(field);
    }
  });
});

describe('simple workloads and dirty rate', () => {
  it('idle is 0 and dirties at the idle rate', () => {
    const w = createWorkload({ kind: 'idle' });
    expect(w.cpuUtilizationRatio(12345)).toBe(0);
    expect(w.dirtyRateMbPerSecond(12345)).toBe(1);
  });

  it('constant 0.4 dirties 1 + 0.4 x (100 - 1) = 40.6 MB/s by default', () => {
    const w = createWorkload({ kind: 'constant', utilizationRatio: 0.4 });
    expect(w.cpuUtilizationRatio(0)).toBe(0.4);
    expect(w.dirtyRateMbPerSecond(99)).toBeCloseTo(40.6, 12);
    expect(createWorkload({ kind: 'constant', utilizationRatio: 0.5 }, { idleMbPerSecond: 10, peakMbPerSecond: 30 }).dirtyRateMbPerSecond(0)).toBe(20);
  });

  it.each([
    [{ kind: 'constant', utilizationRatio: 1.2 } as const, 'workload.utilization_ratio'],
    [{ kind: 'random_walk', seed: 1, initialRatio: 0.5, maxStepRatio: 0.1, stepMs: 0 } as const, 'workload.step_ms'],
    [{ kind: 'planetlab', samplesPercent: [1, 2] } as const, 'workload.samples_percent'],
  ])('rejects %j', (spec, field) => {
    expect(() => createWorkload(spec)).toThrow(field);
  });

  it('rejects negative time and a peak dirty rate below idle', () => {
    expect(() => createWorkload({ kind: 'idle' }).cpuUtilizationRatio(-1)).toThrow(/t_ms/);
    expect(() => createWorkload({ kind: 'idle' }, { idleMbPerSecond: 5, peakMbPerSecond: 1 })).toThrow(/dirty_rate.peak_mb_per_second/);
  });
});

describe('random walk', () => {
  const spec = { kind: 'random_walk', seed: 42, initialRatio: 0.5, maxStepRatio: 0.2, stepMs: 1000 } as const;

  it('starts at the initial ratio and holds within a step', () => {
    const w = createWorkload(spec);
    expect(w.cpuUtilizationRatio(0)).toBe(0.5);
    expect(w.cpuUtilizationRatio(999)).toBe(0.5);
    expect(w.cpuUtilizationRatio(1000)).not.toBe(0.5);
  });

  it('moves at most maxStepRatio per step', () => {
    const w = createWorkload(spec);
    for (let k = 1; k < 500; k++) {
      expect(Math.abs(w.cpuUtilizationRatio(k * 1000) - w.cpuUtilizationRatio((k - 1) * 1000))).toBeLessThanOrEqual(0.2 + 1e-12);
    }
  });

  it('property: bounded in [0, 1] and a function of (seed, t) whatever the query order', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 30 }), (seed, times) => {
        const s = { ...spec, seed, maxStepRatio: 0.5 };
        const forward = createWorkload(s);
        const shuffled = createWorkload(s);
        const sorted = [...times].sort((a, b) => a - b).map((t) => forward.cpuUtilizationRatio(t));
        const byIndex = new Map([...times].sort((a, b) => a - b).map((t, i) => [t, sorted[i]]));
        for (const t of times) {
          const v = shuffled.cpuUtilizationRatio(t);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          expect(v).toBe(byIndex.get(t));
        }
      }),
    );
  });

  it('different seeds give different walks', () => {
    const a = createWorkload(spec).cpuUtilizationRatio(50_000);
    const b = createWorkload({ ...spec, seed: 43 }).cpuUtilizationRatio(50_000);
    expect(a).not.toBe(b);
  });
});
