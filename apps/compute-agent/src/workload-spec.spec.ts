import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { DEFAULT_TRACE_DIR, parseWorkload } from './workload-spec';
import { modelTickIntervalMs } from './model-ticker';

describe('parseWorkload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'traces-'));
  mkdirSync(join(dir, '20110303'));
  writeFileSync(join(dir, '20110303', 'vm-a'), Array.from({ length: 288 }, (_, i) => String(i % 101)).join('\n') + '\n');

  it('resolves planetlab:<day>/<file> in TRACE_DIR', () => {
    const w = parseWorkload('planetlab:20110303/vm-a', 1, 'f', dir);
    expect(w).toMatchObject({ kind: 'planetlab' });
    expect(w.kind === 'planetlab' && w.samplesPercent.slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('defaults TRACE_DIR to ../shared/data/planetlab beside the repo', () => {
    expect(DEFAULT_TRACE_DIR).toMatch(/shared\/data\/planetlab$/);
  });

  it.each(['planetlab:../etc/passwd', 'planetlab:20110303', 'planetlab:a/../b', 'planetlab:20110303/missing'])('rejects %s naming the field', (t) => {
    expect(() => parseWorkload(t, 1, 'spawn.spec.metadata.minicloud:workload', dir)).toThrow(InvalidArgumentError);
    expect(() => parseWorkload(t, 1, 'spawn.spec.metadata.minicloud:workload', dir)).toThrow(/minicloud:workload/);
  });

  it('keeps the other models', () => {
    expect(parseWorkload('constant:0.3', 1)).toEqual({ kind: 'constant', utilizationRatio: 0.3 });
    expect(parseWorkload('idle', 1)).toEqual({ kind: 'idle' });
  });
});

describe('modelTickIntervalMs', () => {
  it('is MODEL_TICK_MS in real time, and covers TIME_SCALE x the minimum wall interval when scaled', () => {
    expect(modelTickIntervalMs(1000, 1, 100)).toBe(1000);
    expect(modelTickIntervalMs(1000, 3600, 100)).toBe(360_000);
  });
});
