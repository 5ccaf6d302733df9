import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { DEFAULT_TRACE_DIR, MAX_TRACE_BYTES, parseWorkload } from './workload-spec';
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

  it('resolves trace:<day>/<file> by name in TRACE_DIR too, spaces in the file name included', () => {
    const w = parseWorkload('trace:20110303/vm-a', 1, 'f', dir);
    expect(w.kind === 'planetlab' && w.samplesPercent.length).toBe(288);
    writeFileSync(join(dir, '20110303', 'uni-passau_de_ rnp'), Array.from({ length: 288 }, () => '5').join('\n'));
    const spaced = parseWorkload('trace:20110303/uni-passau_de_ rnp', 1, 'f', dir);
    expect(spaced.kind === 'planetlab' && spaced.samplesPercent[0]).toBe(5);
  });

  describe('refuses anything but a regular trace file inside TRACE_DIR', () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    writeFileSync(join(outside, 'secret'), Array.from({ length: 288 }, () => '7').join('\n'));
    symlinkSync(join(outside, 'secret'), join(dir, '20110303', 'escape'));
    symlinkSync(outside, join(dir, 'linkday'));
    mkdirSync(join(dir, '20110303', 'subdir'));
    writeFileSync(join(dir, '20110303', 'huge'), '1\n'.repeat(MAX_TRACE_BYTES));
    writeFileSync(join(dir, '20110303', 'short'), '1\n2\n');
    execFileSync('mkfifo', [join(dir, '20110303', 'fifo')]);
    const field = 'spawn.spec.metadata.minicloud:workload';
    it.each([
      ['trace:/etc/shadow', /not a path/],
      ['trace:/dev/zero', /not a path/],
      ['trace:../../../etc/passwd', /not a path/],
      ['trace:20110303/../vm-a', /not a path/],
      ['trace:./vm-a', /not a path/],
      ['trace:20110303/escape', /leaves the trace directory/],
      ['trace:linkday/secret', /leaves the trace directory/],
      ['trace:20110303/subdir', /not a regular file/],
      ['trace:20110303/fifo', /not a regular file/],
      ['trace:20110303/huge', /more than 16384/],
      ['trace:20110303/short', /not a PlanetLab trace.*288 lines/],
      ['trace:20110303/missing', /no trace "20110303\/missing"/],
    ])('%s -> InvalidArgumentError %s', (t, why) => {
      expect(() => parseWorkload(t, 1, field, dir)).toThrow(InvalidArgumentError);
      expect(() => parseWorkload(t, 1, field, dir)).toThrow(why);
      expect(() => parseWorkload(t, 1, field, dir)).toThrow(/minicloud:workload/);
    });
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
