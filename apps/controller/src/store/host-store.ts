import { NotFoundError } from '@minicloud/domain-errors';
import { defineFenceableLuaScript, type FenceableLuaScript, type LeaderFence } from '@minicloud/platform-lifecycle';
import type { Redis } from '@minicloud/platform-state';
import type { HostLiveness } from '@minicloud/domain-compute';
import { Keys } from './keys';

/** A host's static facts from its registration (agent.v1 HostProfile, reduced to what we use). */
export interface HostProfileRecord {
  hostname: string;
  sockets: number;
  coresPerSocket: number;
  threadsPerCore: number;
  cpuMhz: number;
  ramMb: number;
  diskGb: number;
  cpuModel: string;
  /** CPU feature flags (the guest CPU checks of live migration and custom models); absent on old records. */
  cpuFlags?: string[];
  hypervisorType: string;
  architecture: string;
  availabilityZone: string;
  rackId: string;
  /** NIC Gbit/s and SPECpower table (watts at 0, 10, ..., 100 % CPU) for consolidation; absent on old records. */
  nicGbps?: number;
  powerWattsAtLoadDecile?: number[];
}

/** Last usage a heartbeat carried. */
export interface HostUsageRecord {
  runningVms: number;
  cpuUtilizationRatio: number;
  powerWatts: number;
  /** DPM standby as the agent reports it. */
  standby?: boolean;
  /** The host's energy counter (joules since its agent started). */
  energyJoulesTotal?: number;
  /** ESXi memory state the agent reported (high, soft, hard, low); absent from older agents. */
  memoryState?: string;
}

/** A registered host (Nova's compute node + service record). */
export interface HostRecord {
  hostId: string;
  profile: HostProfileRecord;
  agentEndpoint: string;
  tunnelIp: string;
  /** Logical CPUs = sockets * cores * threads. */
  vcpusTotal: number;
  ramMbTotal: number;
  diskGbTotal: number;
  ramMbReserved: number;
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  enabled: boolean;
  disabledReason: string;
  state: HostLiveness;
  registeredAtMs: number;
  lastHeartbeatAtMs?: number;
  usage?: HostUsageRecord;
  epoch: number;
  /** The compute service's integer id (Nova's os-services id): set at the first registration, kept across re-registrations. */
  serviceId?: number;
}

/**
 * Registered hosts: `host:<id>` hash (flat fields the claim script reads: *_total, *_reserved,
 * *_allocation_ratio; `service_id` from the `host_service_seq` counter), `host:<id>:epoch` (INCR per
 * registration), `hosts` (set of ids).
 */
// KEYS[1]=host hash; ARGV[1]=new state, ARGV[2]=the state the decision saw ('' = any). 1 set, 0 when
// the host is gone or its state changed meanwhile (a leader write adds the fence: -2 when refused).
const SET_STATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' and (redis.call('HGET', KEYS[1], 'state') or 'up') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
return 1
`;

export class HostStore {
  /** Called after a registration, enable/disable or state change (the scheduler's host-state cache). */
  onChange?: () => void;

  private readonly setStateScript: FenceableLuaScript;

  constructor(private readonly redis: Redis) {
    this.setStateScript = defineFenceableLuaScript(redis, SET_STATE, 1, 2);
  }

  /**
   * Stores a (re-)registration and bumps the epoch. Keeps `enabled`/`disabled_reason` of an existing
   * host (an operator's decision survives agent restarts).
   * @returns the new epoch
   */
  async register(h: Omit<HostRecord, 'enabled' | 'disabledReason' | 'epoch' | 'lastHeartbeatAtMs' | 'usage' | 'state'>): Promise<number> {
    const epoch = await this.redis.incr(Keys.hostEpoch(h.hostId));
    // A number is drawn only for a host without one; HSETNX keeps the first should two registrations race.
    if (!(await this.redis.hexists(Keys.host(h.hostId), 'service_id'))) {
      await this.redis.hsetnx(Keys.host(h.hostId), 'service_id', String(await this.redis.incr(Keys.hostServiceSequence())));
    }
    await this.redis
      .multi()
      .hset(Keys.host(h.hostId), {
        host_id: h.hostId,
        profile: JSON.stringify(h.profile),
        agent_endpoint: h.agentEndpoint,
        tunnel_ip: h.tunnelIp,
        vcpus_total: h.vcpusTotal,
        vcpus_reserved: 0,
        ram_mb_total: h.ramMbTotal,
        ram_mb_reserved: h.ramMbReserved,
        disk_gb_total: h.diskGbTotal,
        disk_gb_reserved: 0,
        cpu_allocation_ratio: h.cpuAllocationRatio,
        ram_allocation_ratio: h.ramAllocationRatio,
        disk_allocation_ratio: h.diskAllocationRatio,
        registered_at_ms: h.registeredAtMs,
        state: 'up',
      })
      .hsetnx(Keys.host(h.hostId), 'enabled', '1')
      .sadd(Keys.hosts(), h.hostId)
      .exec();
    this.onChange?.();
    return epoch;
  }

  async epoch(hostId: string): Promise<number> {
    return Number((await this.redis.get(Keys.hostEpoch(hostId))) ?? 0);
  }

  async find(hostId: string): Promise<HostRecord | undefined> {
    const [h, epoch] = await Promise.all([this.redis.hgetall(Keys.host(hostId)), this.redis.get(Keys.hostEpoch(hostId))]);
    return h.host_id ? toRecord(h, Number(epoch ?? 0)) : undefined;
  }

  /** @throws NotFoundError('host', id) */
  async get(hostId: string): Promise<HostRecord> {
    const h = await this.find(hostId);
    if (!h) throw new NotFoundError('host', hostId);
    return h;
  }

  async list(): Promise<HostRecord[]> {
    const ids = (await this.redis.smembers(Keys.hosts())).sort();
    const all = await Promise.all(ids.map((id) => this.find(id)));
    return all.filter((h): h is HostRecord => !!h);
  }

  /** @throws NotFoundError */
  async setEnabled(hostId: string, enabled: boolean, reason: string): Promise<HostRecord> {
    await this.get(hostId);
    await this.redis.hset(Keys.host(hostId), { enabled: enabled ? '1' : '0', disabled_reason: enabled ? '' : reason });
    this.onChange?.();
    return this.get(hostId);
  }

  /**
   * Stores the host's liveness state. `opts.expected`: only if the state is still the one the decision
   * saw (compare-and-set); `opts.fence`: a leader loop's write (liveness, DPM), made only under this
   * replica's fencing token.
   * @returns false when the host is gone or its state changed meanwhile (nothing written)
   * @throws LeaderFenceLostError (with `opts.fence`) when this replica no longer leads: nothing written
   */
  async setState(hostId: string, state: HostLiveness, opts: { expected?: HostLiveness; fence?: LeaderFence } = {}): Promise<boolean> {
    const set = Number(await this.setStateScript([Keys.host(hostId)], [state, opts.expected ?? ''], opts.fence, `state ${state} of host ${hostId}`)) === 1;
    if (set) this.onChange?.();
    return set;
  }

  /** Writes the latest heartbeat times/usage seen by this replica (only moves forward). */
  async recordHeartbeats(beats: { hostId: string; atMs: number; usage: HostUsageRecord }[]): Promise<void> {
    if (beats.length === 0) return;
    const existing = await Promise.all(beats.map((b) => this.redis.hget(Keys.host(b.hostId), 'last_heartbeat_ms')));
    const pipe = this.redis.pipeline();
    beats.forEach((b, i) => {
      if (Number(existing[i] ?? 0) >= b.atMs) return;
      pipe.hset(Keys.host(b.hostId), { last_heartbeat_ms: b.atMs, usage: JSON.stringify(b.usage) });
    });
    await pipe.exec();
  }
}

function toRecord(h: Record<string, string>, epoch: number): HostRecord {
  return {
    hostId: h.host_id,
    profile: JSON.parse(h.profile ?? '{}') as HostProfileRecord,
    agentEndpoint: h.agent_endpoint ?? '',
    tunnelIp: h.tunnel_ip ?? '',
    vcpusTotal: Number(h.vcpus_total ?? 0),
    ramMbTotal: Number(h.ram_mb_total ?? 0),
    diskGbTotal: Number(h.disk_gb_total ?? 0),
    ramMbReserved: Number(h.ram_mb_reserved ?? 0),
    cpuAllocationRatio: Number(h.cpu_allocation_ratio ?? 1),
    ramAllocationRatio: Number(h.ram_allocation_ratio ?? 1),
    diskAllocationRatio: Number(h.disk_allocation_ratio ?? 1),
    enabled: h.enabled !== '0',
    disabledReason: h.disabled_reason ?? '',
    state: (h.state as HostLiveness) ?? 'up',
    registeredAtMs: Number(h.registered_at_ms ?? 0),
    lastHeartbeatAtMs: h.last_heartbeat_ms ? Number(h.last_heartbeat_ms) : undefined,
    usage: h.usage ? (JSON.parse(h.usage) as HostUsageRecord) : undefined,
    epoch,
    serviceId: h.service_id ? Number(h.service_id) : undefined,
  };
}
