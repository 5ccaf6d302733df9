import { InvalidArgumentError } from '@minicloud/domain-errors';

/** One harmonic of a daily cycle: relative amplitude and the hour of its peak. */
export interface DiurnalHarmonic {
  /** Amplitude as a fraction of the mean rate. */
  readonly amplitudeRatio: number;
  /** Hour of day (0..24, UTC of the simulated clock) when this harmonic peaks. */
  readonly peakHour: number;
}

/**
 * Where a listener's offered load comes from, requests/s as a function of seconds since the
 * source started (`diurnal` uses the time of day instead):
 * - `constant`; `step`: the rate of the last step whose `atSeconds` has passed (`initialRps` before);
 * - `sine`: mean + amplitude x sin(2 pi (t - phase) / period);
 * - `diurnal`: a truncated Fourier series of the daily cycle, mean x (1 + sum_k a_k cos(2 pi k (h - peak_k) / 24)),
 *   harmonic k having period 24/k hours (the harmonic model of periodic series: Chatfield, The
 *   Analysis of Time Series, ch. 7); `fitDiurnal` fits it to a measured day;
 * - `trace`: samples `intervalSeconds` apart, linearly interpolated, repeated after the last one.
 */
export type TrafficSource =
  | { readonly kind: 'constant'; readonly rps: number }
  | { readonly kind: 'step'; readonly initialRps: number; readonly steps: readonly { readonly atSeconds: number; readonly rps: number }[] }
  | { readonly kind: 'sine'; readonly meanRps: number; readonly amplitudeRps: number; readonly periodSeconds: number; readonly phaseSeconds?: number }
  | { readonly kind: 'diurnal'; readonly meanRps: number; readonly harmonics: readonly DiurnalHarmonic[] }
  | { readonly kind: 'trace'; readonly intervalSeconds: number; readonly rps: readonly number[]; readonly scale?: number };

const DAY_SECONDS = 86400;

function nonNegative(field: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new InvalidArgumentError(field, `must be a finite number >= 0, got ${v}`);
}

/**
 * Checks a source's parameters.
 * @throws InvalidArgumentError naming the field (`rps`, `steps`, `period_seconds`, `interval_seconds`, ...).
 */
export function validateTrafficSource(src: TrafficSource): void {
  switch (src.kind) {
    case 'constant':
      return nonNegative('rps', src.rps);
    case 'step':
      nonNegative('initial_rps', src.initialRps);
      src.steps.forEach((s, i) => {
        nonNegative(`steps[${i}].rps`, s.rps);
        nonNegative(`steps[${i}].at_seconds`, s.atSeconds);
        if (i > 0 && s.atSeconds <= src.steps[i - 1].atSeconds) throw new InvalidArgumentError(`steps[${i}].at_seconds`, 'must increase');
      });
      return;
    case 'sine':
      nonNegative('mean_rps', src.meanRps);
      nonNegative('amplitude_rps', src.amplitudeRps);
      if (!(src.periodSeconds > 0)) throw new InvalidArgumentError('period_seconds', `must be > 0, got ${src.periodSeconds}`);
      return;
    case 'diurnal':
      nonNegative('mean_rps', src.meanRps);
      src.harmonics.forEach((h, i) => nonNegative(`harmonics[${i}].amplitude_ratio`, h.amplitudeRatio));
      return;
    case 'trace':
      if (!(src.intervalSeconds > 0)) throw new InvalidArgumentError('interval_seconds', `must be > 0, got ${src.intervalSeconds}`);
      if (src.rps.length === 0) throw new InvalidArgumentError('rps', 'a trace needs at least one sample');
      src.rps.forEach((r, i) => nonNegative(`rps[${i}]`, r));
      if (src.scale !== undefined) nonNegative('scale', src.scale);
  }
}

/**
 * Offered requests/s at `tSeconds` since the source started (never negative). For `diurnal`,
 * `tSeconds` is read as seconds since a midnight of the simulated clock.
 */
export function offeredRps(src: TrafficSource, tSeconds: number): number {
  switch (src.kind) {
    case 'constant':
      return src.rps;
    case 'step': {
      let r = src.initialRps;
      for (const s of src.steps) if (tSeconds >= s.atSeconds) r = s.rps;
      return r;
    }
    case 'sine':
      return Math.max(0, src.meanRps + src.amplitudeRps * Math.sin((2 * Math.PI * (tSeconds - (src.phaseSeconds ?? 0))) / src.periodSeconds));
    case 'diurnal': {
      const hour = (((tSeconds % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS) / 3600;
      const f = src.harmonics.reduce((s, h, i) => s + h.amplitudeRatio * Math.cos((2 * Math.PI * (i + 1) * (hour - h.peakHour)) / 24), 0);
      return Math.max(0, src.meanRps * (1 + f));
    }
    case 'trace': {
      const n = src.rps.length;
      const pos = (((tSeconds / src.intervalSeconds) % n) + n) % n;
      const i = Math.floor(pos);
      const frac = pos - i;
      const v = src.rps[i] * (1 - frac) + src.rps[(i + 1) % n] * frac;
      return v * (src.scale ?? 1);
    }
  }
}

/**
 * Fits the first `harmonics` harmonics of a daily cycle to `samples` equally spaced over 24 h
 * (sample i at hour i x 24 / n; the discrete Fourier transform, which is the least-squares fit of a
 * harmonic model to equally spaced data).
 * @throws InvalidArgumentError naming `samples` when fewer than 2 x harmonics + 1 samples are given.
 */
export function fitDiurnal(samples: readonly number[], harmonics: number): { meanRps: number; harmonics: DiurnalHarmonic[] } {
  const n = samples.length;
  if (n < 2 * harmonics + 1) throw new InvalidArgumentError('samples', `need at least ${2 * harmonics + 1} samples for ${harmonics} harmonics, got ${n}`);
  const mean = samples.reduce((s, x) => s + x, 0) / n;
  const out: DiurnalHarmonic[] = [];
  for (let k = 1; k <= harmonics; k++) {
    let a = 0;
    let b = 0;
    samples.forEach((x, i) => {
      const angle = (2 * Math.PI * k * i) / n;
      a += x * Math.cos(angle);
      b += x * Math.sin(angle);
    });
    a = (2 * a) / n;
    b = (2 * b) / n;
    const amplitude = Math.hypot(a, b);
    // a cos(w) + b sin(w) = A cos(w - phi), phi = atan2(b, a); w = 2 pi k h / 24 -> peak at h = 24 phi / (2 pi k).
    const phi = Math.atan2(b, a);
    const period = 24 / k;
    const peak = ((((24 * phi) / (2 * Math.PI * k)) % period) + period) % period;
    out.push({ amplitudeRatio: mean > 0 ? amplitude / mean : 0, peakHour: peak });
  }
  return { meanRps: mean, harmonics: out };
}

/**
 * Parses a trace file of requests/s: one sample per line (`offset_seconds,requests_per_second`),
 * '#' comments and blank lines ignored; offsets must start at 0 and be equally spaced.
 * @throws InvalidArgumentError naming `trace` with the line number of the first bad line.
 */
export function parseRpsTrace(text: string): { intervalSeconds: number; rps: number[] } {
  const points: [number, number][] = [];
  text.split('\n').forEach((raw, idx) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(',').map((p) => p.trim());
    const t = Number(parts[0]);
    const r = Number(parts[1]);
    if (parts.length !== 2 || !Number.isFinite(t) || !Number.isFinite(r) || r < 0) {
      throw new InvalidArgumentError('trace', `line ${idx + 1}: expected "offset_seconds,requests_per_second", got "${line}"`);
    }
    points.push([t, r]);
  });
  if (points.length < 2) throw new InvalidArgumentError('trace', 'needs at least two samples');
  if (points[0][0] !== 0) throw new InvalidArgumentError('trace', 'the first offset must be 0');
  const interval = points[1][0];
  if (!(interval > 0)) throw new InvalidArgumentError('trace', 'offsets must increase');
  points.forEach(([t], i) => {
    if (Math.abs(t - i * interval) > 1e-9) throw new InvalidArgumentError('trace', `sample ${i + 1}: offsets must be equally spaced (${interval} s)`);
  });
  return { intervalSeconds: interval, rps: points.map(([, r]) => r) };
}
