import type { Redis } from '@minicloud/platform-state';

type Key = (...parts: (string | number)[]) => string;

/** Keystone's [security_compliance] lockout settings. */
export interface LockoutPolicy {
  /** Failed logins in a row that lock the account (Keystone's lockout_failure_attempts); 0 = never. */
  failureAttempts: number;
  /** How long a locked account stays locked after its last failure (lockout_duration), seconds. */
  durationSeconds: number;
  /** User names never locked (Keystone's ignore_lockout_failure_attempts option, set on service users). */
  exemptUserNames: readonly string[];
}

/**
 * Failed-login counters per (domain, user name) in Redis, `mc:identity:lockout:<domain>:<name>` =
 * hash {failures, last_failure_ms}, expiring `durationSeconds` after the last failure. Counted by the
 * name tried, existing or not, so a locked name answers the same whether the user exists. A locked
 * name is refused before any password hashing: a flood of guesses against one account costs
 * `failureAttempts` hashes per lockout window, not one per guess, and never slows other users.
 */
export class LockoutStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: Key,
    private readonly policy: LockoutPolicy,
    private readonly nowMs: () => number,
  ) {}

  private k(domainId: string, userName: string): string {
    return this.key('lockout', domainId, userName.toLowerCase());
  }

  private applies(userName: string): boolean {
    return this.policy.failureAttempts > 0 && !this.policy.exemptUserNames.includes(userName);
  }

  /** Whether the name is locked now (failures >= attempts and the last one within the duration). */
  async isLocked(domainId: string, userName: string): Promise<boolean> {
    if (!this.applies(userName)) return false;
    const [failures, last] = await this.redis.hmget(this.k(domainId, userName), 'failures', 'last_failure_ms');
    return Number(failures ?? 0) >= this.policy.failureAttempts && this.nowMs() - Number(last ?? 0) < this.policy.durationSeconds * 1000;
  }

  /** Counts one failed login (a count older than the duration starts again at 1). */
  async recordFailure(domainId: string, userName: string): Promise<void> {
    if (!this.applies(userName)) return;
    const k = this.k(domainId, userName);
    const now = this.nowMs();
    const last = Number((await this.redis.hget(k, 'last_failure_ms')) ?? 0);
    const tx = this.redis.multi();
    if (now - last >= this.policy.durationSeconds * 1000) tx.hset(k, 'failures', 0);
    await tx.hincrby(k, 'failures', 1).hset(k, 'last_failure_ms', now).expire(k, this.policy.durationSeconds).exec();
  }

  /** A successful login clears the count. */
  async reset(domainId: string, userName: string): Promise<void> {
    if (this.applies(userName)) await this.redis.del(this.k(domainId, userName));
  }
}
