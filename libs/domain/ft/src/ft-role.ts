import { ConflictError, InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * A server's fault-tolerance state (vSphere's "Fault Tolerance Status": Protected / Not Protected,
 * with the reason): `not_protected` (FT off), `starting` (secondary being placed and synchronised),
 * `protected` (checkpoints acknowledged), `need_secondary` (FT on, no secondary: vSphere's
 * "Not Protected: Need Secondary VM"), `failing_over` (the secondary is being made live).
 */
export type FtState = 'not_protected' | 'starting' | 'protected' | 'need_secondary' | 'failing_over';

export const FT_STATES: readonly FtState[] = ['not_protected', 'starting', 'protected', 'need_secondary', 'failing_over'];

/**
 * An FT pair as the controller records it on the instance. `generation` is the FT generation: every
 * change of which copy is live (failover, the primary going on alone, a new secondary) increments it,
 * by a compare-and-set from the value the decision read, so two deciders can never both win (the role
 * VMware FT's atomic test-and-set on shared storage plays). The live copy is the one on the
 * instance's host; the secondary is never live.
 */
export interface FtPair {
  readonly state: FtState;
  readonly generation: number;
  /** Host of the standby copy; absent when there is none. */
  readonly secondaryHostId?: string;
  /** When the server last stopped being protected (ms), to count time unprotected; absent while protected. */
  readonly unprotectedSinceMs?: number;
}

/** Health of a host for FT decisions: `up`, or `down` (failed, fenced, isolated: its copies are not to be trusted). */
export type FtHostHealth = 'up' | 'down';

/** What the FT loop does for one pair. */
export type FtDecision =
  | { readonly kind: 'none' }
  /** The primary's host is down, the secondary's up: make the secondary live (generation + 1). */
  | { readonly kind: 'failover'; readonly toHostId: string; readonly generation: number }
  /** The secondary's host is down: the primary runs on unprotected (generation + 1). */
  | { readonly kind: 'drop_secondary'; readonly generation: number }
  /** FT on, no secondary, the primary up: place and synchronise a new one. */
  | { readonly kind: 'protect' }
  /** Both copies' hosts down: FT cannot help; HA restarts the server from its disk. */
  | { readonly kind: 'give_up_to_ha'; readonly generation: number };

/**
 * The FT role decision, pure. Input: the pair, the health of the primary's (the instance's) host and
 * of the secondary's host.
 * - starting/protected, primary down, secondary up -> failover to the secondary (only `protected`:
 *   a secondary still `starting` has no acknowledged state to resume from -> give_up_to_ha);
 * - starting/protected, primary up, secondary down -> drop_secondary;
 * - both down -> give_up_to_ha;
 * - need_secondary with the primary up -> protect; not_protected and failing_over -> none (a
 *   failover in progress is finished by whoever holds its generation).
 */
export function decideFt(pair: FtPair, primary: FtHostHealth, secondary: FtHostHealth | undefined): FtDecision {
  const g = pair.generation + 1;
  if (pair.state === 'not_protected' || pair.state === 'failing_over') return { kind: 'none' };
  if (pair.state === 'need_secondary') return primary === 'up' ? { kind: 'protect' } : { kind: 'none' };
  const sec = pair.secondaryHostId ? secondary ?? 'down' : 'down';
  if (primary === 'up') return sec === 'up' ? { kind: 'none' } : { kind: 'drop_secondary', generation: g };
  if (sec === 'up' && pair.state === 'protected') return { kind: 'failover', toHostId: pair.secondaryHostId!, generation: g };
  return { kind: 'give_up_to_ha', generation: g };
}

/**
 * The compare-and-set step on the generation: applies `next` to `cur` only if `cur.generation` is
 * still `expected` (what the decision read) and `next.generation` is `expected + 1`.
 * @throws ConflictError (ABORTED) when the generation moved on (someone else decided first);
 *   InvalidArgumentError (`generation`) when `next` does not advance it by exactly one
 */
export function casGeneration(cur: FtPair, expected: number, next: FtPair): FtPair {
  if (next.generation !== expected + 1) throw new InvalidArgumentError('generation', `must be ${expected + 1}, got ${next.generation}`);
  if (cur.generation !== expected) throw new ConflictError(`FT generation is ${cur.generation}, expected ${expected}: another decision won`);
  return next;
}

/** Migration id of the standby copy of FT generation `g` (the agents' incoming-VM slot the secondary occupies). */
export function ftStreamId(instanceId: string, generation: number): string {
  return `ft:${instanceId}:${generation}`;
}

/** The flavor extra spec that makes a flavor's servers born fault-tolerant (`minicloud:ft=true`). */
export const FT_EXTRA_SPEC = 'minicloud:ft';

/**
 * Whether a flavor's extra specs ask for fault tolerance (`minicloud:ft`: "true" or "false", any case;
 * absent = false).
 * @throws InvalidArgumentError (`extra_specs.minicloud:ft`) for another value
 */
export function ftRequestedByFlavor(extraSpecs: Readonly<Record<string, string>>): boolean {
  const v = extraSpecs[FT_EXTRA_SPEC];
  if (v === undefined) return false;
  const s = v.trim().toLowerCase();
  if (s !== 'true' && s !== 'false') throw new InvalidArgumentError(`extra_specs.${FT_EXTRA_SPEC}`, `must be true or false, got '${v}'`);
  return s === 'true';
}
