import { InvalidArgumentError } from '@minicloud/domain-errors';
import { ConsolidationPolicy } from './cloudsim-types';
import { createOverloadDetector } from './overload-detection';
import { maximumCorrelation, minimumMigrationTime, minimumUtilization, randomSelection, VmSelectionPolicy } from './vm-selection';

/**
 * Parses a policy name as CloudSim's runners name them: `dvfs`, or `<detector>-<selection>-<param>`
 * with detector thr|iqr|mad|lr|lrr, selection mmt|mu|rs|mc (mc falls back to mmt, as CloudSim's runners), param the threshold (thr) or the safety
 * parameter; `_` works as well as `-` (e.g. "lr_mmt_1.2"). `rng` feeds rs (defaults to a fixed
 * linear congruential generator so runs are reproducible).
 * @throws InvalidArgumentError (`policy`) for anything else.
 */
export function parsePolicyName(name: string, rng?: () => number): ConsolidationPolicy {
  const n = name.trim().toLowerCase();
  if (n === 'dvfs') return { kind: 'dvfs' };
  const m = /^(thr|iqr|mad|lr|lrr)[-_](mmt|mu|rs|mc)[-_](\d+(?:\.\d+)?)$/.exec(n);
  if (!m) throw new InvalidArgumentError('policy', `expected dvfs or <thr|iqr|mad|lr|lrr>-<mmt|mu|rs|mc>-<number>, got "${name}"`);
  const param = Number(m[3]);
  const detector = m[1] === 'thr'
    ? createOverloadDetector({ kind: 'thr', thresholdRatio: param })
    : createOverloadDetector({ kind: m[1] as 'iqr' | 'mad' | 'lr' | 'lrr', safetyParameter: param });
  const selection: VmSelectionPolicy =
    m[2] === 'mmt' ? minimumMigrationTime : m[2] === 'mu' ? minimumUtilization : m[2] === 'mc' ? maximumCorrelation(minimumMigrationTime) : randomSelection(rng ?? lcg(42));
  return { kind: 'migration', detector, selection };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
