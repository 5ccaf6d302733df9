import { randomUUID } from 'node:crypto';
import type { Redis } from '@minicloud/platform-state';
import { defineLuaScript } from '@minicloud/platform-state';
import type { Logger } from '@minicloud/platform-logging';
import { sleepUntilAborted, type Runnable } from './runnable';

// KEYS[1]=lease key, KEYS[2]=fencing counter; ARGV[1]=holder id, ARGV[2]=ttl ms.
// Acquire if free, renew if ours; a new holder gets a new fencing token (INCR).
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local holder, token = string.match(cur, '^(.-)|(%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return -1
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token
`;

// Release only if we still hold it.
const RELEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and string.match(cur, '^(.-)|') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * A Lua prologue for a leader-only write script: returns -2 (and writes nothing) unless the leader
 * lease `KEYS[keyIndex]` is held with fencing token `ARGV[argIndex]`, so a stale leader (one that
 * stalled past its lease while a successor took over) cannot write. Put it first in the script; the
 * check and the write are one atomic script (Kleppmann's fencing token, checked where the write lands).
 */
export function leaderFenceCheckLua(keyIndex: number, argIndex: number): string {
  return `do
  local lease = redis.call('GET', KEYS[${keyIndex}])
  if not lease or string.match(lease, '|(%d+)$') ~= tostring(ARGV[${argIndex}]) then return -2 end
end
`;
}

/** Where a leader-only write checks the fencing token: the lease key and the token this replica holds now. */
export interface LeaderFence {
  key: string;
  /** The current fencing token, or undefined when this replica does not lead. */
  token: () => number | undefined;
}

/**
 * A leader-only write was refused: this replica does not lead any more, or the lease holds another
 * (newer) fencing token. Nothing was written; the loop that tried stops its tick (its leadership's
 * signal aborts soon, if it has not yet).
 */
export class LeaderFenceLostError extends Error {
  override readonly name = 'LeaderFenceLostError';
  constructor(what: string, readonly fencingToken?: number) {
    super(`${what}: not written, this replica no longer holds the leader lease${fencingToken === undefined ? '' : ` with fencing token ${fencingToken}`}`);
  }
}

/** True for a {@link LeaderFenceLostError} (also across module copies). */
export function isLeaderFenceLost(e: unknown): e is LeaderFenceLostError {
  return e instanceof Error && e.name === 'LeaderFenceLostError';
}

/**
 * A script that writes with or without the leader's fence: `run(keys, args)` is the plain script;
 * `run(keys, args, fence, what)` runs the same script behind {@link leaderFenceCheckLua}, in the same
 * atomic step, with the lease key appended to `keys` and the token to `args`.
 * @throws LeaderFenceLostError (fenced runs) when this replica holds no token, or the lease holds another one
 */
export type FenceableLuaScript = (keys: string[], args: (string | number)[], fence?: LeaderFence, what?: string) => Promise<unknown>;

/**
 * Defines a {@link FenceableLuaScript} from `lua`, which takes exactly `keyCount` KEYS and `argCount`
 * ARGV of its own and never returns -2 itself (-2 is the fence's refusal).
 */
export function defineFenceableLuaScript(redis: Redis, lua: string, keyCount: number, argCount: number): FenceableLuaScript {
  const plain = defineLuaScript(redis, lua);
  const fenced = defineLuaScript(redis, leaderFenceCheckLua(keyCount + 1, argCount + 1) + lua);
  return async (keys, args, fence, what = 'leader write') => {
    if (!fence) return plain(keys, args);
    if (keys.length !== keyCount || args.length !== argCount) throw new Error(`${what}: fenced script expects ${keyCount} keys and ${argCount} args, got ${keys.length} and ${args.length}`);
    const token = fence.token();
    if (token === undefined) throw new LeaderFenceLostError(what);
    const res = await fenced([...keys, fence.key], [...args, token]);
    if (Number(res) === -2) throw new LeaderFenceLostError(what, token);
    return res;
  };
}

/** The current leadership: a fencing token that increases with each new leader. */
export interface Leadership {
  fencingToken: number;
  /** Aborted when leadership is lost (lease not renewed in time) or the elector stops. */
  signal: AbortSignal;
}

/**
 * Leader election on a Redis lease with a fencing token (Kleppmann's fencing; the Kubernetes
 * leader-election pattern). The holder renews every `ttlMs/3`; when a renew fails or is late, it
 * steps down at once (before the lease can pass to another replica).
 */
export class LeaderElector implements Runnable {
  readonly name: string;
  readonly holderId: string;
  private current?: { token: number; controller: AbortController };
  private readonly listeners = new Set<(l: Leadership) => void>();
  private readonly acquire;
  private readonly release;

  constructor(
    redis: Redis,
    private readonly opts: { key: string; ttlMs: number; logger: Logger; holderId?: string },
  ) {
    this.name = `leader-elector(${opts.key})`;
    this.holderId = opts.holderId ?? randomUUID();
    this.acquire = defineLuaScript(redis, ACQUIRE);
    this.release = defineLuaScript(redis, RELEASE);
  }

  isLeader(): boolean {
    return !!this.current;
  }

  fencingToken(): number | undefined {
    return this.current?.token;
  }

  /** Called each time this replica becomes leader. */
  onLeadership(fn: (l: Leadership) => void): void {
    this.listeners.add(fn);
  }

  async start(signal: AbortSignal): Promise<void> {
    const renewEvery = Math.max(10, Math.floor(this.opts.ttlMs / 3));
    while (!signal.aborted) {
      const started = Date.now();
      let token = -1;
      try {
        // A renew that hangs (Redis unreachable: commands queue) must not keep us leader: give up
        // after half the TTL, well before the lease can expire and pass to another replica.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('renew timed out')), this.opts.ttlMs / 2);
        });
        try {
          token = Number(await Promise.race([this.acquire([this.opts.key, `${this.opts.key}:fencing`], [this.holderId, this.opts.ttlMs]), timeout]));
        } finally {
          clearTimeout(timer);
        }
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message }, 'leader lease renew failed');
      }
      const late = Date.now() - started > this.opts.ttlMs / 2;
      if (token > 0 && !late) {
        if (!this.current || this.current.token !== token) {
          this.stepDown('new term');
          const controller = new AbortController();
          this.current = { token, controller };
          this.opts.logger.info({ fencing_token: token }, 'became leader');
          for (const l of this.listeners) l({ fencingToken: token, signal: controller.signal });
        }
      } else if (this.current) {
        this.stepDown(late ? 'renew too slow' : 'lease lost');
      }
      await sleepUntilAborted(renewEvery, signal);
    }
    if (this.current) {
      this.stepDown('shutdown');
      // Best effort: when Redis is unreachable the lease simply expires.
      await Promise.race([this.release([this.opts.key], [this.holderId]).catch(() => undefined), new Promise((r) => setTimeout(r, this.opts.ttlMs).unref())]);
    }
  }

  private stepDown(reason: string) {
    if (!this.current) return;
    this.opts.logger.info({ fencing_token: this.current.token, reason }, 'leadership ended');
    this.current.controller.abort();
    this.current = undefined;
  }
}

/**
 * Wraps a Runnable so it runs only while this replica leads: started on each leadership, aborted when
 * it ends (the controller-runtime "leader election runnable").
 */
export function leaderOnly(elector: LeaderElector, inner: Runnable): Runnable {
  return {
    name: `leader-only(${inner.name})`,
    async start(signal) {
      const running = new Set<Promise<void>>();
      elector.onLeadership((l) => {
        const both = AbortSignal.any([l.signal, signal]);
        const p = inner.start(both).finally(() => running.delete(p));
        running.add(p);
      });
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
      await Promise.all(running);
    },
  };
}
