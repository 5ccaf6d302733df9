import { defineFenceableLuaScript, type FenceableLuaScript, type LeaderFence } from '@minicloud/platform-lifecycle';
import { defineLuaScripts, type Redis } from '@minicloud/platform-state';
import { Keys } from './keys';

/** Resources one instance consumes on a host (Placement's VCPU, MEMORY_MB, DISK_GB). */
export interface ResourceRequest {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

/** Outcome of a claim: ok, or which resource class did not fit (or the host is gone). */
export type ClaimResult = { ok: true } | { ok: false; reason: 'vcpus' | 'ram_mb' | 'disk_gb' | 'no_host' };

// KEYS[1]=host hash, KEYS[2]=usage hash, KEYS[3]=allocations hash
// ARGV[1]=instance id, ARGV[2]=vcpus, ARGV[3]=ram_mb, ARGV[4]=disk_gb,
// ARGV[5..7]=cpu/ram/disk allocation ratio overrides (aggregate metadata; '' = the host's own)
// Placement's capacity check per class: (total - reserved) * allocation_ratio - used >= requested.
// Idempotent: an instance already allocated here succeeds without consuming twice.
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no_host' end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 'ok' end
local classes = {
  {'vcpus', 'vcpus_total', 'vcpus_reserved', 'cpu_allocation_ratio', tonumber(ARGV[2]), ARGV[5]},
  {'ram_mb', 'ram_mb_total', 'ram_mb_reserved', 'ram_allocation_ratio', tonumber(ARGV[3]), ARGV[6]},
  {'disk_gb', 'disk_gb_total', 'disk_gb_reserved', 'disk_allocation_ratio', tonumber(ARGV[4]), ARGV[7]},
}
for _, c in ipairs(classes) do
  local total = tonumber(redis.call('HGET', KEYS[1], c[2]) or '0')
  local reserved = tonumber(redis.call('HGET', KEYS[1], c[3]) or '0')
  local ratio = tonumber(c[6] or '') or tonumber(redis.call('HGET', KEYS[1], c[4]) or '1')
  local used = tonumber(redis.call('HGET', KEYS[2], c[1]) or '0')
  if (total - reserved) * ratio - used < c[5] then return c[1] end
end
for _, c in ipairs(classes) do redis.call('HINCRBY', KEYS[2], c[1], c[5]) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. ',' .. ARGV[3] .. ',' .. ARGV[4])
return 'ok'
`;

/**
 * Lua that releases consumer ARGV[idArg]'s claim held in allocations hash KEYS[allocKey] and takes it
 * off the sums in KEYS[usageKey]; the local `released` is true when there was one. The one release
 * rule, shared by {@link AllocationStore.release} and scripts that release as part of a bigger step
 * (closing an HA evacuation).
 */
export function releaseClaimLua(usageKey: number, allocKey: number, idArg: number): string {
  return `local released = false
do
  local a = redis.call('HGET', KEYS[${allocKey}], ARGV[${idArg}])
  if a then
    local v, r, d = string.match(a, '^(%-?%d+),(%-?%d+),(%-?%d+)$')
    redis.call('HINCRBY', KEYS[${usageKey}], 'vcpus', 0 - tonumber(v))
    redis.call('HINCRBY', KEYS[${usageKey}], 'ram_mb', 0 - tonumber(r))
    redis.call('HINCRBY', KEYS[${usageKey}], 'disk_gb', 0 - tonumber(d))
    redis.call('HDEL', KEYS[${allocKey}], ARGV[${idArg}])
    released = true
  end
end
`;
}

// KEYS[1]=usage hash, KEYS[2]=allocations hash; ARGV[1]=instance id. Idempotent: 0 when nothing held.
const RELEASE = releaseClaimLua(1, 2, 1) + 'if released then return 1 end return 0';

// KEYS[1]=allocations hash; ARGV[1]=from consumer, ARGV[2]=to consumer. Moves an allocation without
// touching the sums (resize confirm: '<id>#resize' becomes '<id>'). 1 moved, 0 nothing to move.
const MOVE = `
local a = redis.call('HGET', KEYS[1], ARGV[1])
if not a then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], a)
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/** Allocation ratios in force for one claim (aggregate overrides); unset = the host's own. */
export interface RatioOverrides {
  cpu?: number;
  ram?: number;
  disk?: number;
}

/** Totals a host has allocated, and per instance. */
export interface HostAllocations {
  vcpus: number;
  ramMb: number;
  diskGb: number;
  byInstance: Map<string, ResourceRequest>;
}

/**
 * Placement-style allocations per host: `host:<id>:usage` (sums) and `host:<id>:allocations`
 * (instance -> amounts), changed only by two Lua scripts so check-and-consume is atomic across
 * controller replicas.
 */
export class AllocationStore {
  private readonly scripts;
  private readonly claimScript: FenceableLuaScript;
  private readonly releaseScript: FenceableLuaScript;
  /** Called after a claim, release or move changed a host's allocations (the scheduler's host-state cache). */
  onChange?: (hostId: string) => void;

  constructor(private readonly redis: Redis) {
    this.scripts = defineLuaScripts(redis, { move: MOVE });
    this.claimScript = defineFenceableLuaScript(redis, CLAIM, 3, 7);
    this.releaseScript = defineFenceableLuaScript(redis, RELEASE, 2, 1);
  }

  /**
   * Claims `req` for consumer `instanceId` (an instance id, or `<id>#resize` for a resize's new
   * flavor) on `hostId` if it fits under the host's ratios, or `ratios` when an aggregate overrides
   * them (atomic, idempotent). `fence`: a leader loop's claim (an HA restart's destination), made only
   * under this replica's fencing token, so a stale leader cannot leave a claim behind.
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing claimed
   */
  async claim(hostId: string, instanceId: string, req: ResourceRequest, ratios: RatioOverrides = {}, fence?: LeaderFence): Promise<ClaimResult> {
    const r = String(
      await this.claimScript(
        [Keys.host(hostId), Keys.hostUsage(hostId), Keys.hostAllocations(hostId)],
        [instanceId, req.vcpus, req.ramMb, req.diskGb, ratios.cpu ?? '', ratios.ram ?? '', ratios.disk ?? ''],
        fence,
        `claim of ${instanceId} on ${hostId}`,
      ),
    );
    if (r !== 'ok') return { ok: false, reason: r as 'vcpus' | 'ram_mb' | 'disk_gb' | 'no_host' };
    this.onChange?.(hostId);
    return { ok: true };
  }

  /**
   * Removes the instance's allocation on `hostId`; true when there was one. Idempotent. `fence`: a
   * leader loop's release, made only under this replica's fencing token.
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing released
   */
  async release(hostId: string, instanceId: string, fence?: LeaderFence): Promise<boolean> {
    if (!hostId) return false;
    const released = Number(await this.releaseScript([Keys.hostUsage(hostId), Keys.hostAllocations(hostId)], [instanceId], fence, `release of ${instanceId} on ${hostId}`)) === 1;
    if (released) this.onChange?.(hostId);
    return released;
  }

  /** Renames consumer `from` to `to` on `hostId` (sums unchanged); true when moved. */
  async move(hostId: string, from: string, to: string): Promise<boolean> {
    const moved = Number(await this.scripts.move([Keys.hostAllocations(hostId)], [from, to])) === 1;
    if (moved) this.onChange?.(hostId);
    return moved;
  }

  /**
   * The first of `hostIds` holding a claim of consumer `instanceId` (one round trip): how a step that
   * died between claiming and recording (HA restart, build reschedule) finds its claim to adopt it.
   * @returns the host id, or undefined when none of them holds one
   */
  async hostHolding(instanceId: string, hostIds: readonly string[]): Promise<string | undefined> {
    if (hostIds.length === 0) return undefined;
    const pipe = this.redis.pipeline();
    for (const h of hostIds) pipe.hexists(Keys.hostAllocations(h), instanceId);
    const res = (await pipe.exec()) ?? [];
    const i = res.findIndex(([err, v]) => !err && Number(v) === 1);
    return i < 0 ? undefined : hostIds[i];
  }

  async get(hostId: string): Promise<HostAllocations> {
    const [usage, allocs] = await Promise.all([this.redis.hgetall(Keys.hostUsage(hostId)), this.redis.hgetall(Keys.hostAllocations(hostId))]);
    const byInstance = new Map<string, ResourceRequest>();
    for (const [id, v] of Object.entries(allocs)) {
      const [vcpus, ramMb, diskGb] = v.split(',').map(Number);
      byInstance.set(id, { vcpus, ramMb, diskGb });
    }
    return { vcpus: Number(usage.vcpus ?? 0), ramMb: Number(usage.ram_mb ?? 0), diskGb: Number(usage.disk_gb ?? 0), byInstance };
  }
}
