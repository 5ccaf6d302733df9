import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import type { Logger } from '@minicloud/platform-logging';

export { Redis };

/**
 * Connects to Redis with reconnects forever (backoff up to 1 s) and offline queueing, and waits for
 * the first `ready`. Commands issued while disconnected wait for the reconnect.
 * @param url e.g. redis://127.0.0.1:6379
 */
export async function connectRedis(opts: { url: string; name: string; logger: Logger }): Promise<Redis> {
  const redis = new Redis(opts.url, {
    connectionName: opts.name,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
  redis.on('error', (err) => opts.logger.warn({ err: err.message }, 'redis error'));
  redis.on('reconnecting', () => opts.logger.info('redis reconnecting'));
  await redis.connect();
  return redis;
}

/**
 * Builds Redis keys owned by one service: `mc:<service>:<part>:<part>...`. No service reads or
 * writes another's keys.
 */
export function keyspace(service: string): (...parts: (string | number)[]) => string {
  return (...parts) => ['mc', service, ...parts].join(':');
}

/** A Lua script run atomically in Redis (EVALSHA, falling back to EVAL when the script cache is cold). */
export type LuaScript = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * Wraps a Lua script for atomic read-check-write (claims, quota reservations, leases).
 * @param lua the script; KEYS and ARGV as in EVAL
 */
export function defineLuaScript(redis: Redis, lua: string): LuaScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (e instanceof Error && e.message.includes('NOSCRIPT')) return redis.eval(lua, keys.length, ...keys, ...args);
      throw e;
    }
  };
}

/**
 * {@link defineLuaScript} for each script of `sources` (name -> Lua source), under the same names:
 * a store keeps its scripts as one record instead of a field and an assignment per script.
 */
export function defineLuaScripts<K extends string>(redis: Redis, sources: Record<K, string>): Record<K, LuaScript> {
  return Object.fromEntries(Object.entries<string>(sources).map(([name, lua]) => [name, defineLuaScript(redis, lua)])) as Record<K, LuaScript>;
}
