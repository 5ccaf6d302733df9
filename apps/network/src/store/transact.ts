import { defineLuaScript, type Redis } from '@minicloud/platform-state';

/**
 * A precondition checked before anything is written: the key exists / the set is empty / the key is
 * absent / field `field` of hash `key` (0 when absent) is below `limit` (a counter under its quota).
 */
export type Guard = { kind: 'exists' | 'empty' | 'absent'; key: string } | { kind: 'below'; key: string; field: string; limit: number };

/**
 * A write done after the compare-and-set, in order. `delifeq` deletes a claim key only while it still
 * holds `a1` (so a release never frees someone else's claim); `hset` sets field `a1` to `a2`;
 * `hincr` adds the integer `a2` to field `a1` and drops the field once it reaches 0 (a counter
 * index), its result being returned in {@link TransactResult} `counts`.
 */
export interface Op {
  kind: 'sadd' | 'srem' | 'del' | 'delifeq' | 'hset' | 'hdel' | 'hincr';
  key: string;
  a1?: string;
  a2?: string;
}

/**
 * Generation counters incremented in the same step as the write: one per host named in `hosts` or
 * a field of any hash in `indexKeys` (read after the ops), at `generationPrefix + host`.
 */
export interface Bump {
  indexKeys: string[];
  hosts: string[];
  generationPrefix: string;
}

/**
 * Outcome: written (with the `hincr` results in op order, and each bumped host's new generation);
 * the record was not what the caller read (re-read and retry); guard `index` failed.
 */
export type TransactResult = { ok: true; counts: number[]; generations: Map<string, number> } | { ok: false; conflict: true } | { ok: false; conflict: false; guardIndex: number };

/** ANY: skip the compare; the record key is left alone when `next` is ANY too. */
export const ANY = '\u0000any';

// KEYS: record, guards, ops, bump index hashes. ARGV: expected, next, #guards, #ops, #index hashes,
// generation prefix, guard triples (kind, field, limit), op triples, bump hosts.
const LUA = `
local nguards = tonumber(ARGV[3])
local nops = tonumber(ARGV[4])
local nindex = tonumber(ARGV[5])
local prefix = ARGV[6]
local cur = redis.call('GET', KEYS[1])
if ARGV[1] ~= '\\0any' then
  if (cur or '') ~= ARGV[1] then return -1 end
end
for i = 1, nguards do
  local kind = ARGV[4 + 3 * i]
  local key = KEYS[1 + i]
  if kind == 'exists' and redis.call('EXISTS', key) == 0 then return i end
  if kind == 'absent' and redis.call('EXISTS', key) == 1 then return i end
  if kind == 'empty' and redis.call('EXISTS', key) == 1 and redis.call('SCARD', key) > 0 then return i end
  if kind == 'below' and (tonumber(redis.call('HGET', key, ARGV[5 + 3 * i])) or 0) >= tonumber(ARGV[6 + 3 * i]) then return i end
end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
elseif ARGV[2] ~= '\\0any' then redis.call('SET', KEYS[1], ARGV[2]) end
local counts = {}
local base = 6 + 3 * nguards
for j = 2 + nguards, 1 + nguards + nops do
  local kind = ARGV[base + 1]
  local a1 = ARGV[base + 2]
  local a2 = ARGV[base + 3]
  base = base + 3
  local key = KEYS[j]
  if kind == 'sadd' then redis.call('SADD', key, a1)
  elseif kind == 'srem' then redis.call('SREM', key, a1)
  elseif kind == 'del' then redis.call('DEL', key)
  elseif kind == 'delifeq' then if redis.call('GET', key) == a1 then redis.call('DEL', key) end
  elseif kind == 'hset' then redis.call('HSET', key, a1, a2)
  elseif kind == 'hdel' then redis.call('HDEL', key, a1)
  elseif kind == 'hincr' then
    local n = redis.call('HINCRBY', key, a1, tonumber(a2))
    if n <= 0 then redis.call('HDEL', key, a1) end
    counts[#counts + 1] = n
  end
end
local out = {0, #counts}
for _, n in ipairs(counts) do out[#out + 1] = n end
if prefix ~= '' then
  local hosts = {}
  local order = {}
  local function add(h)
    if h ~= '' and not hosts[h] then hosts[h] = true; order[#order + 1] = h end
  end
  for j = 2 + nguards + nops, 1 + nguards + nops + nindex do
    for _, h in ipairs(redis.call('HKEYS', KEYS[j])) do add(h) end
  end
  for i = base + 1, #ARGV do add(ARGV[i]) end
  for _, h in ipairs(order) do
    out[#out + 1] = h
    out[#out + 1] = redis.call('INCR', prefix .. h)
  end
end
return out
`;

/**
 * One atomic Redis transaction (a Lua script): compare the record at `key` with `expected` ('' =
 * must be absent, {@link ANY} = no compare), check the guards, then set it to `next` ('' = delete,
 * ANY = leave), apply `ops` and increment the `bump` generations. Nothing is written unless every
 * check passes. (The bump builds its counter keys from the hosts it finds, so the service keeps to
 * one Redis node, as it does.)
 */
export type Transact = (t: { key: string; expected: string; next: string; guards?: Guard[]; ops?: Op[]; bump?: Bump }) => Promise<TransactResult>;

export function createTransact(redis: Redis): Transact {
  const script = defineLuaScript(redis, LUA);
  return async ({ key, expected, next, guards = [], ops = [], bump }) => {
    const keys = [key, ...guards.map((g) => g.key), ...ops.map((o) => o.key), ...(bump?.indexKeys ?? [])];
    const args: string[] = [expected === ANY ? '\0any' : expected, next === ANY ? '\0any' : next, String(guards.length), String(ops.length), String(bump?.indexKeys.length ?? 0), bump?.generationPrefix ?? ''];
    for (const g of guards) args.push(g.kind, g.kind === 'below' ? g.field : '', g.kind === 'below' ? String(g.limit) : '');
    for (const o of ops) args.push(o.kind, o.a1 ?? '', o.a2 ?? '');
    if (bump) args.push(...bump.hosts);
    const r = (await script(keys, args)) as number | (number | string)[];
    if (Array.isArray(r)) {
      const n = Number(r[1]);
      const counts = r.slice(2, 2 + n).map(Number);
      const generations = new Map<string, number>();
      for (let i = 2 + n; i + 1 < r.length; i += 2) generations.set(String(r[i]), Number(r[i + 1]));
      return { ok: true, counts, generations };
    }
    if (Number(r) === -1) return { ok: false, conflict: true };
    return { ok: false, conflict: false, guardIndex: Number(r) - 1 };
  };
}

const CLAIM_LUA = `
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  if ARGV[4] == '1' then redis.call('SADD', KEYS[3], ARGV[2]) end
  return 1
end
return 0
`;

/**
 * Claims `key` for `owner` with SET NX, atomically with: the `parent` key must exist (e.g. the
 * subnet), and `member` is added to the `index` set (e.g. the subnet's allocated IPs).
 * @returns 'claimed', 'taken' (someone holds it) or 'no_parent'
 */
export type Claim = (c: { key: string; owner: string; parent?: string; index?: { key: string; member: string } }) => Promise<'claimed' | 'taken' | 'no_parent'>;

export function createClaim(redis: Redis): Claim {
  const script = defineLuaScript(redis, CLAIM_LUA);
  return async ({ key, owner, parent, index }) => {
    const keys = [key, parent ?? key, index?.key ?? key];
    const r = Number(await script(keys, [owner, index?.member ?? '', parent ? '1' : '0', index ? '1' : '0']));
    return r === 1 ? 'claimed' : r === 0 ? 'taken' : 'no_parent';
  };
}
