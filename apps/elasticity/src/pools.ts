import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  applyMemberCommand,
  newMember,
  parseLbAlgorithm,
  validateHealthMonitor,
  validateMember,
  type HealthMonitorSpec,
  type HealthMonitorType,
} from '@minicloud/domain-elasticity';
import type { ModuleDeps } from './store/deps';
import type { Caller, RecordStore } from './store/record-store';
import type { ListenerRecord, PoolMemberRecord, PoolRecord, ScalingGroupRecord } from './store/records';

/** Most members a pool holds (a scaling group's max is 100). */
export const MAX_POOL_MEMBERS = 200;

/**
 * Pools, members and health monitors (Octavia). A pool hangs off a listener (its default pool);
 * `cpu_ms_per_request` is the CPU one request costs a member, the simulation's request cost.
 */
export class Pools {
  constructor(
    private readonly d: ModuleDeps & {
      listeners: RecordStore<ListenerRecord>;
      pools: RecordStore<PoolRecord>;
      members: RecordStore<PoolMemberRecord>;
      groups: RecordStore<ScalingGroupRecord>;
    },
  ) {}

  /**
   * @throws NotFoundError('listener'), InvalidArgumentError('lb_algorithm' | 'cpu_ms_per_request'),
   *   FailedPreconditionError('listener_has_pool')
   */
  async create(caller: Caller, input: { listenerId: string; name: string; lbAlgorithm: string; protocol: string; cpuMsPerRequest: number }): Promise<PoolRecord> {
    const listener = await this.d.listeners.get(caller, input.listenerId);
    const lbAlgorithm = parseLbAlgorithm(input.lbAlgorithm);
    if (input.protocol && input.protocol !== listener.protocol) throw new InvalidArgumentError('protocol', `must match the listener's ${listener.protocol}`);
    const cpu = input.cpuMsPerRequest || 10;
    if (!(cpu > 0 && cpu <= 60_000)) throw new InvalidArgumentError('cpu_ms_per_request', `must be in (0, 60000] ms, got ${cpu}`);
    if (listener.defaultPoolId) throw new FailedPreconditionError(`listener ${listener.id} already has pool ${listener.defaultPoolId}`, 'listener_has_pool');
    const rec = await this.d.pools.create({
      id: this.d.pools.newId(),
      projectId: listener.projectId,
      loadBalancerId: listener.loadBalancerId,
      listenerId: listener.id,
      name: input.name,
      lbAlgorithm,
      protocol: listener.protocol,
      cpuMsPerRequest: cpu,
      healthMonitor: null,
      provisioningStatus: 'ACTIVE',
    });
    try {
      await this.d.listeners.update(listener.id, (cur) => {
        if (cur.defaultPoolId) throw new FailedPreconditionError(`listener ${listener.id} already has pool ${cur.defaultPoolId}`, 'listener_has_pool');
        return { ...cur, defaultPoolId: rec.id };
      });
    } catch (e) {
      await this.d.pools.remove(rec);
      throw e;
    }
    await this.d.publish({ entity: 'pool', action: 'created', resourceId: rec.id, projectId: rec.projectId });
    return rec;
  }

  get(caller: Caller, id: string) {
    return this.d.pools.get(caller, id);
  }

  list(caller: Caller, loadBalancerId: string) {
    return this.d.pools.list(caller, (p) => !loadBalancerId || p.loadBalancerId === loadBalancerId);
  }

  /** @throws NotFoundError, FailedPreconditionError('pool_in_use') while members or a scaling group remain */
  async delete(caller: Caller, id: string): Promise<void> {
    const pool = await this.d.pools.get(caller, id);
    const groups = await this.d.groups.all((g) => g.poolId === id);
    if (groups.length) throw new FailedPreconditionError(`pool ${id} is used by scaling group ${groups[0].id}`, 'pool_in_use');
    const members = await this.d.members.all((m) => m.poolId === id);
    if (members.length) throw new FailedPreconditionError(`pool ${id} has ${members.length} member(s); delete them first`, 'pool_in_use');
    await this.d.pools.remove(pool);
    await this.d.listeners.update(pool.listenerId, (cur) => (cur.defaultPoolId === id ? { ...cur, defaultPoolId: '' } : null)).catch((e) => {
      if (!(e instanceof NotFoundError)) throw e;
    });
    await this.d.publish({ entity: 'pool', action: 'deleted', resourceId: id, projectId: pool.projectId });
  }

  /**
   * Adds a member: PENDING_CREATE then ACTIVE at once (there is no amphora to wait for);
   * OFFLINE until the monitor passes it, NO_MONITOR without a monitor.
   * @throws NotFoundError('pool'), InvalidArgumentError('address' | 'protocol_port' | 'weight'),
   *   AlreadyExistsError('member') for the same address and port, ResourceExhausted-like FailedPrecondition past MAX_POOL_MEMBERS
   */
  async addMember(caller: Caller, input: { poolId: string; address: string; protocolPort: number; weight?: number; serverId?: string }): Promise<PoolMemberRecord> {
    const pool = await this.d.pools.get(caller, input.poolId);
    const weight = input.weight ?? 1;
    validateMember({ address: input.address, protocolPort: input.protocolPort, weight });
    const existing = await this.d.members.all((m) => m.poolId === pool.id);
    if (existing.some((m) => m.address === input.address && m.protocolPort === input.protocolPort)) throw new AlreadyExistsError('member', `${input.address}:${input.protocolPort}`);
    if (existing.length >= MAX_POOL_MEMBERS) throw new FailedPreconditionError(`pool ${pool.id} has ${MAX_POOL_MEMBERS} members already`, 'pool_full');
    const id = this.d.members.newId();
    const status = applyMemberCommand(newMember(id, pool.healthMonitor !== null), { type: 'provisioned' });
    const rec = await this.d.members.create({ id, projectId: pool.projectId, poolId: pool.id, address: input.address, protocolPort: input.protocolPort, weight, serverId: input.serverId ?? '', status });
    await this.d.publish({ entity: 'member', action: 'created', resourceId: rec.id, projectId: rec.projectId });
    return rec;
  }

  async listMembers(caller: Caller, poolId: string): Promise<PoolMemberRecord[]> {
    await this.d.pools.get(caller, poolId);
    return this.d.members.list(caller, (m) => m.poolId === poolId);
  }

  /** @throws NotFoundError('member') (also when it is in another pool) */
  async deleteMember(caller: Caller, poolId: string, memberId: string): Promise<void> {
    await this.d.pools.get(caller, poolId);
    const m = await this.d.members.get(caller, memberId);
    if (m.poolId !== poolId) throw new NotFoundError('member', memberId);
    await this.d.members.remove(m);
    await this.d.publish({ entity: 'member', action: 'deleted', resourceId: memberId, projectId: m.projectId });
  }

  /**
   * Attaches the pool's health monitor; its members start over from OFFLINE.
   * @throws NotFoundError('pool'), InvalidArgumentError naming the monitor's field, AlreadyExistsError('health_monitor')
   */
  async createHealthMonitor(caller: Caller, poolId: string, spec: HealthMonitorSpec): Promise<PoolRecord> {
    await this.d.pools.get(caller, poolId);
    validateHealthMonitor(spec);
    const rec = await this.d.pools.update(poolId, (cur) => {
      if (cur.healthMonitor) throw new AlreadyExistsError('health_monitor', cur.healthMonitor.id);
      return { ...cur, healthMonitor: { ...spec, type: spec.type as HealthMonitorType, id: this.d.pools.newId() } };
    });
    for (const m of await this.d.members.all((x) => x.poolId === poolId)) {
      await this.d.members.update(m.id, (cur) => ({ ...cur, status: applyMemberCommand(cur.status, { type: 'monitor_attached' }) }));
    }
    await this.d.publish({ entity: 'health_monitor', action: 'created', resourceId: rec.healthMonitor!.id, projectId: rec.projectId });
    return rec;
  }

  /** @throws NotFoundError('pool' | 'health_monitor') */
  async deleteHealthMonitor(caller: Caller, poolId: string): Promise<void> {
    const pool = await this.d.pools.get(caller, poolId);
    if (!pool.healthMonitor) throw new NotFoundError('health_monitor', poolId, 'the pool has no health monitor');
    await this.d.pools.update(poolId, (cur) => ({ ...cur, healthMonitor: null }));
    for (const m of await this.d.members.all((x) => x.poolId === poolId)) {
      await this.d.members.update(m.id, (cur) => ({ ...cur, status: applyMemberCommand(cur.status, { type: 'monitor_detached' }) }));
    }
    await this.d.publish({ entity: 'health_monitor', action: 'deleted', resourceId: pool.healthMonitor.id, projectId: pool.projectId });
  }
}
