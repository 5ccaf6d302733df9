import type { Rng } from '@minicloud/domain-clock';
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
