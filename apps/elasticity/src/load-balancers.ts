import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import { parseListenerProtocol, validateListenerPort, validateTrafficSource, type TrafficSource } from '@minicloud/domain-elasticity';
import type { CloudPort } from './cloud-port';
import type { ModuleDeps } from './store/deps';
import type { Caller, RecordStore } from './store/record-store';
import type { ListenerRecord, LoadBalancerRecord, PoolRecord } from './store/records';

/** Longest trace and step list a traffic source may carry (a day at one sample per 10 s). */
export const MAX_TRACE_SAMPLES = 8640;
export const MAX_TRAFFIC_STEPS = 100;

/** The VIP: the subnet's first host address after the gateway's block (.10 in a /24), as a fixed address. */
function vipOf(cidr: string): string {
  const [base] = cidr.split('/');
  const o = base.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3] + 10}`;
}

/**
 * Load balancers and their listeners (Octavia). A load balancer's VIP is on a subnet the caller's
 * project can see (checked with the network service using the caller's token, so another tenant's
 * subnet is NOT_FOUND and nothing is made).
 */
export class LoadBalancers {
  constructor(
    private readonly d: ModuleDeps & {
      lbs: RecordStore<LoadBalancerRecord>;
      listeners: RecordStore<ListenerRecord>;
      pools: RecordStore<PoolRecord>;
      cloud: CloudPort;
    },
  ) {}

  /** @throws InvalidArgumentError('vip_subnet_id'), NotFoundError('subnet') */
  async create(caller: Caller, input: { name: string; vipSubnetId: string }): Promise<LoadBalancerRecord> {
    if (!input.vipSubnetId) throw new InvalidArgumentError('vip_subnet_id', 'must not be empty');
    const subnet = await this.d.cloud.getSubnet(caller.token, input.vipSubnetId);
    if (!caller.admin && subnet.projectId && subnet.projectId !== caller.projectId) {
      // A shared subnet of another project is visible, but Octavia places a VIP only on the caller's own or a shared network it may use: refuse plainly.
      throw new FailedPreconditionError(`subnet ${subnet.id} belongs to another project`, 'foreign_subnet');
    }
    const rec = await this.d.lbs.create({
      id: this.d.lbs.newId(),
      projectId: caller.projectId,
      name: input.name,
      vipSubnetId: subnet.id,
      vipAddress: vipOf(subnet.cidr),
      provisioningStatus: 'ACTIVE',
      createdAtMs: this.d.clock.nowMs(),
    });
    await this.d.publish({ entity: 'load_balancer', action: 'created', resourceId: rec.id, projectId: rec.projectId });
    return rec;
  }

  get(caller: Caller, id: string) {
    return this.d.lbs.get(caller, id);
  }

  list(caller: Caller) {
    return this.d.lbs.list(caller);
  }

  /**
   * Deletes a load balancer. Pools must be deleted first (their members may be a scaling group's);
   * listeners too, unless `cascade`, which deletes them.
   * @throws NotFoundError, FailedPreconditionError('load_balancer_in_use')
   */
  async delete(caller: Caller, id: string, cascade: boolean): Promise<void> {
    const lb = await this.d.lbs.get(caller, id);
    const listeners = await this.d.listeners.all((l) => l.loadBalancerId === id);
    const pools = await this.d.pools.all((p) => p.loadBalancerId === id);
    if (pools.length) throw new FailedPreconditionError(`load balancer ${id} has ${pools.length} pool(s); delete them first`, 'load_balancer_in_use');
    if (!cascade && listeners.length) throw new FailedPreconditionError(`load balancer ${id} has ${listeners.length} listener(s); delete them or use cascade`, 'load_balancer_in_use');
    for (const l of listeners) await this.d.listeners.remove(l);
    await this.d.lbs.remove(lb);
    await this.d.publish({ entity: 'load_balancer', action: 'deleted', resourceId: id, projectId: lb.projectId });
  }

  /** @throws NotFoundError('load_balancer'), InvalidArgumentError('protocol' | 'protocol_port'), AlreadyExists-like FailedPrecondition on a taken port */
  async createListener(caller: Caller, input: { loadBalancerId: string; name: string; protocol: string; protocolPort: number }): Promise<ListenerRecord> {
    const lb = await this.d.lbs.get(caller, input.loadBalancerId);
    const protocol = parseListenerProtocol(input.protocol);
    validateListenerPort(input.protocolPort);
    const taken = await this.d.listeners.all((l) => l.loadBalancerId === lb.id && l.protocolPort === input.protocolPort && (l.protocol === 'UDP') === (protocol === 'UDP'));
    if (taken.length) throw new FailedPreconditionError(`port ${input.protocolPort} is already used by listener ${taken[0].id}`, 'duplicate_listener_port');
    const rec = await this.d.listeners.create({ id: this.d.listeners.newId(), projectId: lb.projectId, loadBalancerId: lb.id, name: input.name, protocol, protocolPort: input.protocolPort, defaultPoolId: '', trafficSource: null, trafficSourceSetAtMs: 0 });
    await this.d.publish({ entity: 'listener', action: 'created', resourceId: rec.id, projectId: rec.projectId });
    return rec;
  }

  async listListeners(caller: Caller, loadBalancerId: string): Promise<ListenerRecord[]> {
    if (loadBalancerId) await this.d.lbs.get(caller, loadBalancerId);
    return this.d.listeners.list(caller, (l) => !loadBalancerId || l.loadBalancerId === loadBalancerId);
  }

  /** @throws NotFoundError, FailedPreconditionError('listener_in_use') while a pool hangs off it */
  async deleteListener(caller: Caller, id: string): Promise<void> {
    const l = await this.d.listeners.get(caller, id);
    if ((await this.d.pools.all((p) => p.listenerId === id)).length) throw new FailedPreconditionError(`listener ${id} has a pool; delete it first`, 'listener_in_use');
    await this.d.listeners.remove(l);
    await this.d.publish({ entity: 'listener', action: 'deleted', resourceId: id, projectId: l.projectId });
  }

  /**
   * Sets the listener's simulated offered load.
   * @throws InvalidArgumentError naming the source's field, or `trace_rps` / `steps` beyond their limits
   */
  async setTrafficSource(caller: Caller, listenerId: string, source: TrafficSource): Promise<ListenerRecord> {
    await this.d.listeners.get(caller, listenerId);
    if (source.kind === 'trace' && source.rps.length > MAX_TRACE_SAMPLES) throw new InvalidArgumentError('trace_rps', `at most ${MAX_TRACE_SAMPLES} samples, got ${source.rps.length}`);
    if (source.kind === 'step' && source.steps.length > MAX_TRAFFIC_STEPS) throw new InvalidArgumentError('steps', `at most ${MAX_TRAFFIC_STEPS} steps, got ${source.steps.length}`);
    if (source.kind === 'diurnal' && source.harmonics.length > 12) throw new InvalidArgumentError('harmonics', 'at most 12 harmonics');
    validateTrafficSource(source);
    const rec = await this.d.listeners.update(listenerId, (cur) => ({ ...cur, trafficSource: source, trafficSourceSetAtMs: this.d.clock.nowMs() }));
    await this.d.publish({ entity: 'listener', action: 'updated', resourceId: rec.id, projectId: rec.projectId });
    return rec;
  }
}
