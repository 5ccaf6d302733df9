/** A VM as the selection policies see it. */
export interface SelectableVm {
  readonly ramMb: number;
  /** Current CPU utilisation ratio. */
  readonly utilizationRatio: number;
  readonly inMigration: boolean;
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
