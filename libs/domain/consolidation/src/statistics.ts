/**
 * The statistics of CloudSim 3.0.3's `org.cloudbus.cloudsim.util.MathUtil`, reproduced exactly
 * (including its quirks) because the overload detectors of Beloglazov & Buyya (CCPE 2012) depend on
 * them: median = Apache Commons Math percentile(50); IQR with Java `Math.round` quartile indexes; the
 * "loess" fit is an ordinary least-squares line on x = 1..n because the tricube weights are never
 * zero (MathUtil only weights when >= 40 % of the weights are zero).
 */

/** Median (Apache Commons Math `Percentile` legacy estimator at p = 50). Empty input gives NaN. */
export function median(data: readonly number[]): number {
  const n = data.length;
  if (n === 0) return NaN;
  const s = [...data].sort((a, b) => a - b);
  if (n === 1) return s[0];
  const pos = (50 * (n + 1)) / 100;
  if (pos < 1) return s[0];
  if (pos >= n) return s[n - 1];
  const fpos = Math.floor(pos);
  return s[fpos - 1] + (pos - fpos) * (s[fpos] - s[fpos - 1]);
}

/** Median absolute deviation (MathUtil.mad); 0 for empty input. */
export function mad(data: readonly number[]): number {
  if (data.length === 0) return 0;
  const m = median(data);
  return median(data.map((v) => Math.abs(m - v)));
}

/** Java Math.round: floor(x + 0.5). */
function javaRound(x: number): number {
  return Math.floor(x + 0.5);
}

/** Interquartile range as MathUtil.iqr: sorted[round(0.75(n+1)) - 1] - sorted[round(0.25(n+1)) - 1]. */
export function iqr(data: readonly number[]): number {
  const s = [...data].sort((a, b) => a - b);
  const q1 = javaRound(0.25 * (s.length + 1)) - 1;
  const q3 = javaRound(0.75 * (s.length + 1)) - 1;
  return s[q3] - s[q1];
}

/**
 * MathUtil.countNonZeroBeginning: the length without the trailing zeros, but at least 1 (an all-zero
 * or empty array counts 1, as CloudSim's loop does).
 */
export function countNonZeroBeginning(data: ArrayLike<number>): number {
  let i = data.length - 1;
  while (i >= 0) {
    if (data[i--] !== 0) break;
  }
  return i + 2;
}

/** MathUtil.trimZeroTail (Arrays.copyOfRange pads with 0 past the end). */
export function trimZeroTail(data: ArrayLike<number>): number[] {
  const n = countNonZeroBeginning(data);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i < data.length ? data[i] : 0;
  return out;
}

/** [intercept, slope] of the least-squares line through (x, y) (Apache SimpleRegression). */
export function linearRegression(x: readonly number[], y: readonly number[]): [number, number] {
  const n = x.length;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const slope = n < 2 || sxx === 0 ? NaN : sxy / sxx;
  return [my - slope * mx, slope];
}

/** MathUtil.getTricubeWeigts(n). */
export function tricubeWeights(n: number): number[] {
  const w = new Array<number>(n).fill(0);
  const top = n - 1;
  for (let i = 2; i < n; i++) {
    const k = Math.pow(1 - Math.pow((top - i) / top, 3), 3);
    w[i] = k > 0 ? 1 / k : Number.MAX_VALUE;
  }
  w[0] = w[1] = w[2];
  return w;
}

function weightedRegression(x: number[], y: readonly number[], weights: number[]): [number, number] {
  const zero = weights.filter((v) => v <= 0).length;
  if (zero >= 0.4 * weights.length) {
    return linearRegression(x.map((v, i) => Math.sqrt(weights[i]) * v), y.map((v, i) => Math.sqrt(weights[i]) * v));
  }
  return linearRegression(x, y);
}

/** MathUtil.getLoessParameterEstimates(y): [intercept, slope] with x = 1..n. */
export function loessEstimates(y: readonly number[]): [number, number] {
  const x = y.map((_, i) => i + 1);
  return weightedRegression(x, y, tricubeWeights(y.length));
}

/** MathUtil.getRobustLoessParameterEstimates(y): a second fit with bisquare-of-residuals weights. */
export function robustLoessEstimates(y: readonly number[]): [number, number] {
  const n = y.length;
  const x = y.map((_, i) => i + 1);
  const first = weightedRegression(x, y, tricubeWeights(n));
  const residuals = y.map((v, i) => v - (first[0] + first[1] * x[i]));
  const tri = tricubeWeights(n);
  const s6 = median(residuals.map(Math.abs)) * 6;
  const w2 = new Array<number>(n).fill(0);
  for (let i = 2; i < n; i++) {
    const k = Math.pow(1 - Math.pow(residuals[i] / s6, 2), 2);
    w2[i] = k > 0 ? (1 / k) * tri[i] : Number.MAX_VALUE;
  }
  w2[0] = w2[1] = w2[2];
  const second = weightedRegression(x, y, w2);
  return Number.isNaN(second[0]) || Number.isNaN(second[1]) ? first : second;
}
