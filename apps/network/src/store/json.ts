import type { Redis } from '@minicloud/platform-state';

/** A record read from Redis with the exact string it was stored as (the compare value for a CAS). */
export interface Stored<T> {
  raw: string;
  value: T;
}

/** Reads one JSON record; undefined when the key is absent. */
export async function readJson<T>(redis: Redis, key: string): Promise<Stored<T> | undefined> {
  const raw = await redis.get(key);
  return raw === null ? undefined : { raw, value: JSON.parse(raw) as T };
}

/** Reads many JSON records in one MGET, skipping absent ones (deleted between index read and MGET). */
export async function readJsonMany<T>(redis: Redis, keyList: string[]): Promise<T[]> {
  if (keyList.length === 0) return [];
  const raws = await redis.mget(...keyList);
  return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as T);
}
