import { minAggregateNumber } from './aggregate-metadata';
import { HostState } from './host-state';
import { RequestSpec } from './request-spec';

/**
 * One ranking criterion (Nova's BaseHostWeigher, Nomad's ranker). `rawWeight` gives an unscaled value
 * (higher wins before the multiplier); the scheduler normalises raw weights to [0, 1] across the
 * candidates and multiplies by `multiplier(host)`.
 */
export interface HostWeigher {
  /** Nova's class name, e.g. "RAMWeigher". */
  readonly name: string;
  /** Aggregate metadata key that overrides the multiplier per host, e.g. "ram_weight_multiplier". */
  readonly multiplierKey: string;
  /** The configured multiplier (Nova's `[filter_scheduler] <name>_weight_multiplier`). */
  readonly configuredMultiplier: number;
  rawWeight(host: HostState, spec: RequestSpec): number;
}

/** Options every weigher factory takes. */
export interface WeigherOptions {
  /** Overrides the weigher's Nova default multiplier. */
  readonly multiplier?: number;
}

/**
 * The multiplier in force on `host`: the minimum `<multiplierKey>` across its aggregates, else the
 * configured one (Nova's `utils.get_weight_multiplier`).
 */
export function weightMultiplier(weigher: HostWeigher, host: HostState): number {
  return minAggregateNumber(host, weigher.multiplierKey, weigher.configuredMultiplier);
}

/**
 * Nova's `weights.normalize`: maps values to (v - min) / (max - min); all equal (or empty) -> 0.
 * @returns a new array of the same length with values in [0, 1]
 */
export function normalize(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return values.map(() => 0);
  const range = max - min;
  return values.map((v) => (v - min) / range);
}

/** A host with its total weight; higher is better. */
export interface WeighedHost {
  readonly host: HostState;
  readonly weight: number;
}

/**
 * Weighs `hosts` with every weigher: sum over weighers of multiplier(host) * normalised raw weight.
 * @returns hosts sorted by weight, best first; ties keep input order (stable sort)
 */
export function weighHosts(
  hosts: readonly HostState[],
  weighers: readonly HostWeigher[],
  spec: RequestSpec,
): WeighedHost[] {
  const n = hosts.length;
  const totals = new Float64Array(n);
  const raw = new Float64Array(n);
  for (const weigher of weighers) {
    // Inline normalize (same arithmetic as `normalize`): no intermediate arrays on the hot path.
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = weigher.rawWeight(hosts[i], spec);
      raw[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!(max > min)) continue;
    const range = max - min;
    for (let i = 0; i < n; i++) {
      const normalised = (raw[i] - min) / range;
      if (normalised === 0) continue;
      // Hosts in no aggregate use the configured multiplier: skip the metadata scan.
      const multiplier = hosts[i].aggregates.length === 0 ? weigher.configuredMultiplier : weightMultiplier(weigher, hosts[i]);
      totals[i] += multiplier * normalised;
    }
  }
  const out: WeighedHost[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { host: hosts[i], weight: totals[i] };
  return out.sort((a, b) => b.weight - a.weight);
}
