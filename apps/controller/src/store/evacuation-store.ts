import { defineFenceableLuaScript, type FenceableLuaScript, type LeaderFence } from '@minicloud/platform-lifecycle';
import type { Redis } from '@minicloud/platform-state';
import { releaseClaimLua } from './allocation-store';
import type { InstanceActionRecord } from './instance-store';
import { Keys } from './keys';

/** One restart in progress (durable in Redis, so a new leader finishes it). */
export interface EvacuationRecord {
  instanceId: string;
  fromHostId: string;
  /** Epoch the from-host was fenced at; 0 for a manual evacuation whose host the leader has not fenced yet. */
  fencedEpoch: number;
  /** Opened by an operator (ServerAction evacuate), not by the HA loop. */
  manual?: boolean;
  /** Operator's target host (Nova's `evacuate --host`): the scheduler's filters still apply. */
  targetHostId?: string;
  /** Set once a claim on the destination exists (before the instance record moves). */
  toHostId?: string;
  /** Request id of the `evacuate` instance action. */
  requestId: string;
  startedAtMs: number;
  attempts: number;
  /** Why the last attempt could not place it. */
  lastError?: string;
  /** Guest root password of a manual evacuation (Nova's adminPass): copied to the instance record when it moves, gone with this record. */
  adminPass?: string;
}

// KEYS: evacuation, evacuations set, instance record, instance actions hash.
// ARGV: record JSON, instance id, action request id, action JSON.
// Opens the evacuation of an instance that still exists, indexes it and logs its action, at once. 0 when one is open already or the instance is gone.
const OPEN = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
return 1
`;

// KEYS: evacuation. ARGV: the record as read (JSON), the next one. Compare-and-set: 0 when it changed or is gone.
const REPLACE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

// KEYS: evacuation, evacuations set, from-host usage hash, from-host allocations hash.
// ARGV: the record as read (JSON), instance id, '1' to release the instance's claim on the from-host.
// Ends the evacuation only if its record is still the one read (or already gone), with the old claim in the same step.
const CLOSE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then
${releaseClaimLua(3, 4, 2)}
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

/**
 * HA's durable evacuation records: `ha:evacuation:<instance>` (JSON {@link EvacuationRecord}) and the
 * index `ha:evacuations`. Every write is one Lua script and compare-and-set against the record the
 * decision read; the HA leader passes its fence, so a leader that stalled past its lease changes nothing.
 */
export class EvacuationStore {
  private readonly scripts: { open: FenceableLuaScript; replace: FenceableLuaScript; close: FenceableLuaScript };

  constructor(private readonly redis: Redis) {
    this.scripts = {
      open: defineFenceableLuaScript(redis, OPEN, 4, 4),
      replace: defineFenceableLuaScript(redis, REPLACE, 1, 2),
      close: defineFenceableLuaScript(redis, CLOSE, 4, 3),
    };
  }

  /** Ids of the open evacuations. */
  ids(): Promise<string[]> {
    return this.redis.smembers(Keys.evacuations());
  }

  /** The records of `ids` (undefined where the index names one whose record is gone). */
  async getMany(ids: readonly string[]): Promise<(EvacuationRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => Keys.evacuation(id)));
    return raws.map((raw) => (raw ? (JSON.parse(raw) as EvacuationRecord) : undefined));
  }

  /**
   * Opens `rec` and logs its `evacuate` action in one step (idempotent: an open one wins).
   * @returns false when one is open already or the instance is gone
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing written
   */
  async open(rec: EvacuationRecord, action: InstanceActionRecord, fence?: LeaderFence): Promise<boolean> {
    const id = rec.instanceId;
    const res = await this.scripts.open(
      [Keys.evacuation(id), Keys.evacuations(), Keys.instance(id), Keys.instanceActions(id)],
      [JSON.stringify(rec), id, action.requestId, JSON.stringify(action)],
      fence,
      `evacuation of ${id}`,
    );
    return Number(res) === 1;
  }

  /**
   * Replaces `read` (the record as the caller read it) by `next`.
   * @returns false when the record changed or closed meanwhile (nothing written)
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing written
   */
  async replace(read: EvacuationRecord, next: EvacuationRecord, fence?: LeaderFence): Promise<boolean> {
    const res = await this.scripts.replace([Keys.evacuation(read.instanceId)], [JSON.stringify(read), JSON.stringify(next)], fence, `evacuation of ${read.instanceId}`);
    return Number(res) === 1;
  }

  /**
   * Ends the evacuation `read` (record and index), releasing the instance's claim on its from-host in
   * the same step when `releaseFrom`. A record gone already is cleaned from the index.
   * @returns false when the record changed meanwhile (nothing written)
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing written
   */
  async close(read: EvacuationRecord, opts: { releaseFrom: boolean }, fence?: LeaderFence): Promise<boolean> {
    const id = read.instanceId;
    const res = await this.scripts.close(
      [Keys.evacuation(id), Keys.evacuations(), Keys.hostUsage(read.fromHostId), Keys.hostAllocations(read.fromHostId)],
      [JSON.stringify(read), id, opts.releaseFrom && read.fromHostId ? '1' : '0'],
      fence,
      `evacuation of ${id}`,
    );
    return Number(res) === 1;
  }
}
