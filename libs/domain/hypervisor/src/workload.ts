import { InvalidArgumentError } from '@minicloud/domain-errors';
import { Rng, seededRng } from '@minicloud/domain-clock';

/** PlanetLab trace shape (CoMon data as used by CloudSim): 288 samples, one per 300 s = one day. */
export const PLANETLAB_SAMPLES = 288;
export const PLANETLAB_INTERVAL_MS = 300_000;
const DAY_MS = PLANETLAB_SAMPLES * PLANETLAB_INTERVAL_MS;

/**
 * How fast a VM's memory is written, which drives live-migration pre-copy: idle rate plus a part
 * that grows linearly with CPU utilisation (busy guests dirty more pages). MB/s (MiB per second).
 */
export interface DirtyRateConfig {
  readonly idleMbPerSecond: number;
  readonly peakMbPerSecond: number;
}

/** 1 MB/s idle, 100 MB/s at 100 % CPU. */
export const DEFAULT_DIRTY_RATE: DirtyRateConfig = Object.freeze({ idleMbPerSecond: 1, peakMbPerSecond: 100 });

/** Which CPU demand model a VM follows. */
export type WorkloadSpec =
  | { kind: 'idle' }
  | { kind: 'constant'; utilizationRatio: number }
  /** Steps every `stepMs` by a uniform amount in [-maxStepRatio, +maxStepRatio], clamped to [0, 1]. */
  | { kind: 'random_walk'; seed: number; initialRatio: number; maxStepRatio: number; stepMs: number }
  /** Integer percentages from `parsePlanetLabTrace`. */
  | { kind: 'planetlab'; samplesPercent: readonly number[] };

/** A VM's demand over time; `tMs` is ms since the VM's workload started (>= 0). */
export interface WorkloadModel {
  readonly kind: WorkloadSpec['kind'];
  /** CPU demand as a fraction of the VM's vCPUs, in [0, 1]. @throws InvalidArgumentError (`t_ms`) for t < 0. */
  cpuUtilizationRatio(tMs: number): number;
  /** Memory dirty-page rate in MB/s at t. @throws InvalidArgumentError (`t_ms`) for t < 0. */
  dirtyRateMbPerSecond(tMs: number): number;
}

/**
 * Builds the model for a spec.
 * @throws InvalidArgumentError naming the field (`workload.utilization_ratio`, `workload.step_ms`,
 *   `workload.samples_percent`, `dirty_rate.*`...) when out of range.
 */
export function createWorkload(spec: WorkloadSpec, dirty: DirtyRateConfig = DEFAULT_DIRTY_RATE): WorkloadModel {
  if (!(dirty.idleMbPerSecond >= 0)) throw new InvalidArgumentError('dirty_rate.idle_mb_per_second', `must be >= 0, got ${dirty.idleMbPerSecond}`);
  if (!(dirty.peakMbPerSecond >= dirty.idleMbPerSecond)) {
    throw new InvalidArgumentError('dirty_rate.peak_mb_per_second', `must be >= idle (${dirty.idleMbPerSecond}), got ${dirty.peakMbPerSecond}`);
  }
  const cpu = cpuFunction(spec);
  const checked = (tMs: number): number => {
    if (!(tMs >= 0) || !Number.isFinite(tMs)) throw new InvalidArgumentError('t_ms', `must be a finite time >= 0, got ${tMs}`);
    return cpu(tMs);
  };
  return {
    kind: spec.kind,
    cpuUtilizationRatio: checked,
    dirtyRateMbPerSecond: (tMs) => dirty.idleMbPerSecond + checked(tMs) * (dirty.peakMbPerSecond - dirty.idleMbPerSecond),
  };
}

function cpuFunction(spec: WorkloadSpec): (tMs: number) => number {
  switch (spec.kind) {
    case 'idle':
      return () => 0;
    case 'constant':
      assertRatio('workload.utilization_ratio', spec.utilizationRatio);
      return () => spec.utilizationRatio;
    case 'random_walk':
      return randomWalk(spec);
    case 'planetlab':
      validateSamples(spec.samplesPercent);
      return (tMs) => planetLabUtilizationRatio(spec.samplesPercent, tMs);
  }
}

function randomWalk(spec: Extract<WorkloadSpec, { kind: 'random_walk' }>): (tMs: number) => number {
  assertRatio('workload.initial_ratio', spec.initialRatio);
  assertRatio('workload.max_step_ratio', spec.maxStepRatio);
  if (!(spec.stepMs > 0) || !Number.isFinite(spec.stepMs)) throw new InvalidArgumentError('workload.step_ms', `must be > 0, got ${spec.stepMs}`);
  // Keep one cursor; replay from the seed when asked about an earlier step, so the value at t depends
  // only on (seed, t), whatever order callers ask in.
  let rng: Rng = seededRng(spec.seed);
  let step = 0;
  let value = spec.initialRatio;
  return (tMs) => {
    const target = Math.floor(tMs / spec.stepMs);
    if (target < step) {
      rng = seededRng(spec.seed);
      step = 0;
      value = spec.initialRatio;
    }
    for (; step < target; step++) value = Math.min(1, Math.max(0, value + (rng() * 2 - 1) * spec.maxStepRatio));
    return value;
  };
}

/**
 * CPU utilisation of a PlanetLab trace at t, exactly as CloudSim 3.0.3's
 * `UtilizationModelPlanetLabInMemory.getUtilization`: linear interpolation between the 5-minute
 * samples (percent / 100), with a 289th point equal to the 288th (CloudSim sets data[288] =
 * data[287]), so the last 5 minutes of the day are flat. CloudSim indexes past the day's end and
 * fails; we wrap to t mod 86,400 s so a VM can run for several days on one trace.
 * @param samplesPercent 288 integer percentages (see parsePlanetLabTrace)
 * @returns ratio in [0, 1]
 */
export function planetLabUtilizationRatio(samplesPercent: readonly number[], tMs: number): number {
  const dayMs = tMs % DAY_MS;
  const i = Math.floor(dayMs / PLANETLAB_INTERVAL_MS);
  const frac = (dayMs - i * PLANETLAB_INTERVAL_MS) / PLANETLAB_INTERVAL_MS;
  const a = samplesPercent[i];
  const b = i + 1 < PLANETLAB_SAMPLES ? samplesPercent[i + 1] : a;
  return (a + (b - a) * frac) / 100;
}

/**
 * Parses a PlanetLab trace file (CloudSim's format): one integer CPU percentage per line, exactly 288
 * lines; a final newline, CRLF and surrounding spaces are accepted.
 * @returns the 288 percentages
 * @throws InvalidArgumentError (`trace` for the line count, `trace.line[N]` (1-based) for a value that
 *   is not an integer in 0..100).
 */
export function parsePlanetLabTrace(text: string): number[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length !== PLANETLAB_SAMPLES) {
    throw new InvalidArgumentError('trace', `a PlanetLab trace has ${PLANETLAB_SAMPLES} lines (one per 300 s), got ${lines.length}`);
  }
  return lines.map((line, i) => {
    const s = line.trim();
    const v = Number(s);
    if (!/^\d+$/.test(s) || v > 100) throw new InvalidArgumentError(`trace.line[${i + 1}]`, `must be an integer percentage 0..100, got "${line}"`);
    return v;
  });
}

function validateSamples(samples: readonly number[]): void {
  if (samples.length !== PLANETLAB_SAMPLES) {
    throw new InvalidArgumentError('workload.samples_percent', `needs ${PLANETLAB_SAMPLES} samples, got ${samples.length}`);
  }
  samples.forEach((v, i) => {
    if (!(v >= 0 && v <= 100)) throw new InvalidArgumentError(`workload.samples_percent[${i}]`, `must be in 0..100, got ${v}`);
  });
}

function assertRatio(field: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(field, `must be in [0, 1], got ${v}`);
}
