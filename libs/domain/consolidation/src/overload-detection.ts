import { InvalidArgumentError } from '@minicloud/domain-errors';
import { countNonZeroBeginning, iqr, loessEstimates, mad, robustLoessEstimates, trimZeroTail } from './statistics';

/** CloudSim PowerVm.HISTORY_LENGTH: utilisation samples kept per VM (one per scheduling interval). */
export const VM_HISTORY_LENGTH = 30;
/** Samples an IQR/MAD detector needs before it stops falling back (CloudSim: 12). */
export const ADAPTIVE_MIN_HISTORY = 12;
/** Samples the local-regression detectors fit (CloudSim: "10 to make the regression responsive"). */
export const LR_WINDOW = 10;
/** Static threshold the adaptive detectors fall back to (CloudSim examples: 0.7). */
export const FALLBACK_THRESHOLD_RATIO = 0.7;

/** What a detector needs to know about one VM on the host. */
export interface DetectorVm {
  /** MIPS the VM asks for now. */
  readonly requestedMips: number;
  /** VM capacity, MIPS. */
  readonly mips: number;
  readonly ramMb: number;
  /** CPU utilisation ratios, newest first, at most {@link VM_HISTORY_LENGTH}. */
  readonly history: readonly number[];
}

/** A host as a detector sees it: capacity and the VMs on it (optionally with one extra VM). */
export interface DetectorHost {
  readonly totalMips: number;
  /** Host NIC, Mbit/s (LR uses it for the longest migration time). */
  readonly bwMbps: number;
  readonly vms: readonly DetectorVm[];
}

/** Decides whether a host is overloaded (Beloglazov & Buyya 2012, section 5). */
export type OverloadDetector = (host: DetectorHost, extraVm?: DetectorVm) => boolean;

/** Which detector, with its parameter (threshold or safety parameter). */
export type DetectorSpec =
  | { kind: 'thr'; thresholdRatio: number }
  | { kind: 'iqr' | 'mad' | 'lr' | 'lrr'; safetyParameter: number; schedulingIntervalSeconds?: number };

function forEachVm(host: DetectorHost, extra: DetectorVm | undefined, f: (vm: DetectorVm) => void): void {
  for (const vm of host.vms) f(vm);
  if (extra) f(extra);
}

/** Sum of requested MIPS / host MIPS (PowerVmAllocationPolicyMigrationStaticThreshold). */
export function requestedUtilizationRatio(host: DetectorHost, extra?: DetectorVm): number {
  let total = 0;
  forEachVm(host, extra, (vm) => (total += vm.requestedMips));
  return total / host.totalMips;
}

/**
 * Host CPU utilisation history (PowerHostUtilizationHistory.getUtilizationHistory): for each of the
 * last 30 intervals, sum of VM utilisation x VM MIPS / host MIPS, newest first, zero tail trimmed.
 */
export function hostUtilizationHistory(host: DetectorHost, extra?: DetectorVm): number[] {
  const h = new Array<number>(VM_HISTORY_LENGTH).fill(0);
  forEachVm(host, extra, (vm) => {
    for (let i = 0; i < vm.history.length; i++) h[i] += (vm.history[i] * vm.mips) / host.totalMips;
  });
  return trimZeroTail(h);
}

/**
 * Builds a detector as CloudSim 3.0.3 implements it:
 * - thr: requested / capacity > threshold;
 * - iqr, mad: requested / capacity > 1 - s x IQR|MAD(host history), once the history has >= 12
 *   values, else the 0.7 static threshold;
 * - lr, lrr: fit a line to the last 10 history values (oldest first, x = 1..10), predict at
 *   10 + ceil(longest VM migration time / scheduling interval), overloaded when s x prediction >= 1;
 *   fewer than 10 values: the 0.7 static threshold. The longest migration time is max VM RAM /
 *   (host bandwidth / 2) as PowerDatacenter uses half the NIC for migrations.
 * @throws InvalidArgumentError (`detector.threshold_ratio` / `detector.safety_parameter`) when not > 0.
 */
export function createOverloadDetector(spec: DetectorSpec): OverloadDetector {
  if (spec.kind === 'thr') {
    if (!(spec.thresholdRatio > 0)) throw new InvalidArgumentError('detector.threshold_ratio', `must be > 0, got ${spec.thresholdRatio}`);
    const t = spec.thresholdRatio;
    return (host, extra) => requestedUtilizationRatio(host, extra) > t;
  }
  const s = spec.safetyParameter;
  if (!(s > 0)) throw new InvalidArgumentError('detector.safety_parameter', `must be > 0, got ${s}`);
  const fallback = (host: DetectorHost, extra?: DetectorVm) => requestedUtilizationRatio(host, extra) > FALLBACK_THRESHOLD_RATIO;
  if (spec.kind === 'iqr' || spec.kind === 'mad') {
    const spread = spec.kind === 'iqr' ? iqr : mad;
    return (host, extra) => {
      const history = hostUtilizationHistory(host, extra);
      if (countNonZeroBeginning(history) < ADAPTIVE_MIN_HISTORY) return fallback(host, extra);
      return requestedUtilizationRatio(host, extra) > 1 - s * spread(history);
    };
  }
  const interval = spec.schedulingIntervalSeconds ?? 300;
  const fit = spec.kind === 'lr' ? loessEstimates : robustLoessEstimates;
  return (host, extra) => {
    const history = hostUtilizationHistory(host, extra);
    if (history.length < LR_WINDOW) return fallback(host, extra);
    const chronological = new Array<number>(LR_WINDOW);
    for (let i = 0; i < LR_WINDOW; i++) chronological[i] = history[LR_WINDOW - i - 1];
    const [intercept, slope] = fit(chronological);
    let maxRam = -Infinity;
    forEachVm(host, extra, (vm) => (maxRam = Math.max(maxRam, vm.ramMb)));
    const migrationSeconds = maxRam / (host.bwMbps / 2 / 8);
    const predicted = (intercept + slope * (LR_WINDOW + Math.ceil(migrationSeconds / interval))) * s;
    return predicted >= 1;
  };
}
