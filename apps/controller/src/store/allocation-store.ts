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

// KEYS[1]=usage hash, KEYS[2]=allocations hash; ARGV[1]=instance id. Idempotent: 0 when nothing held.
const RELEASE = `
local a = redis.call('HGET', KEYS[2], ARGV[1])
if not a then return 0 end
local v, r, d = string.match(a, '^(%-?%d+),(%-?%d+),(%-?%d+)$')
redis.call('HINCRBY', KEYS[1], 'vcpus', 0 - tonumber(v))
redis.call('HINCRBY', KEYS[1], 'ram_mb', 0 - tonumber(r))
redis.call('HINCRBY', KEYS[1], 'disk_gb', 0 - tonumber(d))
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

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

  constructor(private readonly redis: Redis) {
    this.scripts = defineLuaScripts(redis, { claim: CLAIM, release: RELEASE, move: MOVE });
  }

  /**
   * Claims `req` for consumer `instanceId` (an instance id, or `<id>#resize` for a resize's new
   * flavor) on `hostId` if it fits under the host's ratios, or `ratios` when an aggregate overrides
   * them (atomic, idempotent).
   */
  async claim(hostId: string, instanceId: string, req: ResourceRequest, ratios: RatioOverrides = {}): Promise<ClaimResult> {
    const r = String(
      await this.scripts.claim(
        [Keys.host(hostId), Keys.hostUsage(hostId), Keys.hostAllocations(hostId)],
        [instanceId, req.vcpus, req.ramMb, req.diskGb, ratios.cpu ?? '', ratios.ram ?? '', ratios.disk ?? ''],
      ),
    );
    return r === 'ok' ? { ok: true } : { ok: false, reason: r as 'vcpus' | 'ram_mb' | 'disk_gb' | 'no_host' };
  }

  /** Removes the instance's allocation on `hostId`; true when there was one. Idempotent. */
  async release(hostId: string, instanceId: string): Promise<boolean> {
    if (!hostId) return false;
    return Number(await this.scripts.release([Keys.hostUsage(hostId), Keys.hostAllocations(hostId)], [instanceId])) === 1;
  }

  /** Renames consumer `from` to `to` on `hostId` (sums unchanged); true when moved. */
  async move(hostId: string, from: string, to: string): Promise<boolean> {
    return Number(await this.scripts.move([Keys.hostAllocations(hostId)], [from, to])) === 1;
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
