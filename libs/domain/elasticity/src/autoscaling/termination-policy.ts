import { InvalidArgumentError } from '@minicloud/domain-errors';
import { GroupInstance, isActive } from './group-instance';

/**
 * Termination policies, applied in order as tie-breakers (AWS semantics):
 * BalancedAZ (the zone with the most active instances loses one, AWS's first step of Default),
 * OldestInstance, NewestInstance.
 */
export type TerminationPolicy = 'BalancedAZ' | 'OldestInstance' | 'NewestInstance';
export const TERMINATION_POLICIES: readonly TerminationPolicy[] = ['BalancedAZ', 'OldestInstance', 'NewestInstance'];
/** AWS Default: balance the zones, then the oldest. */
export const DEFAULT_TERMINATION_POLICIES: readonly TerminationPolicy[] = ['BalancedAZ', 'OldestInstance'];

/** @throws InvalidArgumentError naming `termination_policies` for an unknown or repeated name. */
export function parseTerminationPolicies(names: readonly string[]): TerminationPolicy[] {
  const out: TerminationPolicy[] = [];
  for (const n of names) {
    if (!(TERMINATION_POLICIES as readonly string[]).includes(n)) throw new InvalidArgumentError('termination_policies', `unknown policy "${n}"; known: ${TERMINATION_POLICIES.join(', ')}`);
    if (out.includes(n as TerminationPolicy)) throw new InvalidArgumentError('termination_policies', `"${n}" given twice`);
    out.push(n as TerminationPolicy);
  }
  return out.length ? out : [...DEFAULT_TERMINATION_POLICIES];
}

function narrow(cands: GroupInstance[], policy: TerminationPolicy, remaining: readonly GroupInstance[]): GroupInstance[] {
  switch (policy) {
    case 'BalancedAZ': {
      const perZone = new Map<string, number>();
      for (const i of remaining) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
      const most = Math.max(...cands.map((c) => perZone.get(c.availabilityZone) ?? 0));
      return cands.filter((c) => (perZone.get(c.availabilityZone) ?? 0) === most);
    }
    case 'OldestInstance': {
      const t = Math.min(...cands.map((c) => c.launchedAtMs));
      return cands.filter((c) => c.launchedAtMs === t);
    }
    case 'NewestInstance': {
      const t = Math.max(...cands.map((c) => c.launchedAtMs));
      return cands.filter((c) => c.launchedAtMs === t);
    }
  }
}

/**
 * Picks up to `count` active, unprotected instances to remove on scale-in, one at a time (so zone
 * balance is recomputed after each pick), applying `policies` in order and breaking the last tie by
 * instance id. Returns fewer than `count` when protection leaves too few candidates.
 */
export function selectForTermination(instances: readonly GroupInstance[], count: number, policies: readonly TerminationPolicy[]): string[] {
  const chosen: string[] = [];
  let remaining = instances.filter(isActive);
  for (let n = 0; n < count; n++) {
    let cands = remaining.filter((i) => !i.protectedFromScaleIn);
    if (cands.length === 0) break;
    for (const p of policies) cands = narrow(cands, p, remaining);
    const pick = [...cands].sort((a, b) => a.instanceId.localeCompare(b.instanceId))[0];
    chosen.push(pick.instanceId);
    remaining = remaining.filter((i) => i.instanceId !== pick.instanceId);
  }
  return chosen;
}
