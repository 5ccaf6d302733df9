import type { Rng } from '@minicloud/domain-clock';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';
import type { EventPublisher } from '../events';
import type { Claim, Transact } from './transact';

/** What the network service's logic needs: Redis with its two atomic scripts, time, ids, randomness, events. */
export interface StoreDeps {
  redis: Redis;
  transact: Transact;
  claim: Claim;
  /** Randomness for VNI/MAC/IP picking (spreads concurrent allocators). */
  rng: Rng;
  nowMs: () => number;
  newId: () => string;
  events: EventPublisher;
}

/** Who calls: the token's project and whether it is admin. */
export interface Caller {
  projectId: string;
  isAdmin: boolean;
  requestId?: string;
}

/** Bounded optimistic retry of compare-and-set writes. */
export const MAX_CAS_ATTEMPTS = 20;

/**
 * Runs one optimistic read-then-compare-and-set `attempt` until it gives a value, at most
 * {@link MAX_CAS_ATTEMPTS} times; `undefined` means the record changed meanwhile (read it again).
 * @param what the record, for the error, e.g. "port <id>"
 * @throws FailedPreconditionError('concurrent_update') when every attempt lost the race
 */
export async function retryCas<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
    const done = await attempt();
    if (done !== undefined) return done;
  }
  throw new FailedPreconditionError(`${what} is being changed concurrently; retry`, 'concurrent_update');
}
