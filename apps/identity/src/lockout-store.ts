import type { Redis } from '@minicloud/platform-state';

type Key = (...parts: (string | number)[]) => string;

/** KEYS[1] the counter hash; ARGV now_ms, duration_ms, attempts. Returns 1 (counted, allowed) or 0 (locked). */
const TRY_ATTEMPT_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last_failure_ms') or '0')
if now - last >= window then n = 0 end
if n >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'failures', n + 1, 'last_failure_ms', now)
redis.call('PEXPIRE', KEYS[1], window)
return 1
`;

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

  /**
   * Takes one login attempt for the name, atomically (a Lua script): refused (false) while the name
   * holds `failureAttempts` attempts within the duration; otherwise counted (as a failure until
   * `reset` says it succeeded) and allowed. Counting before the password is checked is what keeps a
   * concurrent flood from hashing more than `failureAttempts` times: the 7th of 1,000 simultaneous
   * guesses is already refused.
   */
  async tryAttempt(domainId: string, userName: string): Promise<boolean> {
    if (!this.applies(userName)) return true;
    const allowed = await this.redis.eval(
      TRY_ATTEMPT_LUA,
      1,
      this.k(domainId, userName),
      String(this.nowMs()),
      String(this.policy.durationSeconds * 1000),
      String(this.policy.failureAttempts),
    );
    return allowed === 1;
  }

  /** A successful login clears the count. */
  async reset(domainId: string, userName: string): Promise<void> {
    if (this.applies(userName)) await this.redis.del(this.k(domainId, userName));
  }
}
