/** A VM as the selection policies see it. */
export interface SelectableVm {
  readonly ramMb: number;
  /** Current CPU utilisation ratio. */
  readonly utilizationRatio: number;
  readonly inMigration: boolean;
  /** CPU utilisation ratios, newest first (CloudSim PowerVm.getUtilizationHistory); used by MC. */
  readonly history?: readonly number[];
}

/** Picks the next VM to move off an overloaded host, or undefined when none can move. */
export type VmSelectionPolicy = <T extends SelectableVm>(vms: readonly T[]) => T | undefined;

function minBy<T extends SelectableVm>(vms: readonly T[], metric: (vm: T) => number): T | undefined {
  let best: T | undefined;
  let min = Number.MAX_VALUE;
  for (const vm of vms) {
    if (vm.inMigration) continue;
    const m = metric(vm);
    if (m < min) {
      min = m;
      best = vm;
    }
  }
  return best;
}

/**
 * Minimum migration time (PowerVmSelectionPolicyMinimumMigrationTime): the VM with the least RAM,
 * since migration time = RAM / bandwidth and every VM has the same bandwidth; first one on ties.
 */
export const minimumMigrationTime: VmSelectionPolicy = (vms) => minBy(vms, (vm) => vm.ramMb);

/** Minimum utilisation (PowerVmSelectionPolicyMinimumUtilization): the least busy VM. */
export const minimumUtilization: VmSelectionPolicy = (vms) => minBy(vms, (vm) => vm.utilizationRatio);

/**
 * Random selection (PowerVmSelectionPolicyRandomSelection): index round(rng() x (n - 1)) among the
 * VMs not migrating. `rng` returns [0, 1).
 */
export function randomSelection(rng: () => number): VmSelectionPolicy {
  return (vms) => {
    const candidates = vms.filter((vm) => !vm.inMigration);
    if (candidates.length === 0) return undefined;
    return candidates[Math.floor(rng() * (candidates.length - 1) + 0.5)];
  };
}

/**
 * Maximum correlation (PowerVmSelectionPolicyMaximumCorrelation, Beloglazov & Buyya, CCPE 24(13)
 * 2012, section 6.2): the VM whose CPU history is best explained by the other VMs' histories, i.e.
 * with the highest multiple correlation coefficient R^2 of an ordinary-least-squares regression of its
 * history on the others' (with intercept), over the shortest history of the candidates. When the
 * regression is not possible (fewer observations than regressors + 2, "the degrees of freedom must be
 * greater than zero" in Apache Commons Math, or a singular system) the `fallback` decides (CloudSim's
 * runners use MMT). Ties and an all-non-positive R^2 keep the first VM, as CloudSim's scan from
 * Double.MIN_VALUE does.
 */
export function maximumCorrelation(fallback: VmSelectionPolicy = minimumMigrationTime): VmSelectionPolicy {
  return (vms) => {
    const candidates = vms.filter((vm) => !vm.inMigration);
    if (candidates.length === 0) return undefined;
    const r2 = correlationCoefficients(candidates.map((vm) => vm.history ?? []));
    if (!r2) return fallback(vms);
    let best = 0;
    let max = Number.MIN_VALUE;
    r2.forEach((v, i) => {
      if (v > max) {
        max = v;
        best = i;
      }
    });
    return candidates[best];
  };
}

/**
 * R^2 of regressing each row of `histories` (truncated to the shortest) on all the other rows, with an
 * intercept. Returns undefined when any regression is impossible: observations m must exceed the
 * regressors (n - 1) + 1, and the normal equations must not be singular.
 */
export function correlationCoefficients(histories: readonly (readonly number[])[]): number[] | undefined {
  const n = histories.length;
  if (n < 2) return undefined;
  const m = Math.min(...histories.map((h) => h.length));
  const p = n; // n - 1 regressors + intercept
  if (m - p <= 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = histories[i].slice(0, m);
    const xs = histories.filter((_, k) => k !== i);
    const row = (j: number) => [1, ...xs.map((h) => h[j])];
    // Normal equations (X'X) b = X'y.
    const a = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
    for (let j = 0; j < m; j++) {
      const r = row(j);
      for (let u = 0; u < p; u++) {
        for (let v = 0; v < p; v++) a[u][v] += r[u] * r[v];
        a[u][p] += r[u] * y[j];
      }
    }
    const b = solve(a);
    if (!b) return undefined;
    const mean = y.reduce((s, v) => s + v, 0) / m;
    let ssRes = 0;
    let ssTot = 0;
    for (let j = 0; j < m; j++) {
      const r = row(j);
      let fit = 0;
      for (let u = 0; u < p; u++) fit += b[u] * r[u];
      ssRes += (y[j] - fit) ** 2;
      ssTot += (y[j] - mean) ** 2;
    }
    out.push(ssTot === 0 ? 0 : 1 - ssRes / ssTot);
  }
  return out;
}

/** Gaussian elimination with partial pivoting on an augmented p x (p+1) matrix; undefined when singular. */
function solve(a: number[][]): number[] | undefined {
  const p = a.length;
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    if (Math.abs(a[piv][c]) < 1e-12) return undefined;
    [a[c], a[piv]] = [a[piv], a[c]];
    for (let r = c + 1; r < p; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= p; k++) a[r][k] -= f * a[c][k];
    }
  }
  const x = new Array<number>(p).fill(0);
  for (let r = p - 1; r >= 0; r--) {
    let s = a[r][p];
    for (let k = r + 1; k < p; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}
