import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { inCidr } from '@minicloud/domain-network';
import type { Networks } from './networks';
import type { Ports } from './ports';
import type { FloatingIpRecord } from './records';
import type { Routers } from './routers';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';
import type { Subnets } from './subnets';

const asService = (c: Caller): Caller => ({ projectId: c.projectId, isAdmin: true, requestId: c.requestId });

/**
 * Floating IPs (Neutron L3): an address allocated from the external network's subnet (held by a port
 * with device_owner network:floatingip), associated 1:1 to a port's fixed IP through the router that
 * has both an interface on that port's subnet and its gateway on the floating network.
 */
export class FloatingIps {
  constructor(
    private readonly d: StoreDeps,
    private readonly networks: Networks,
    private readonly subnets: Subnets,
    private readonly ports: Ports,
    private readonly routers: Routers,
  ) {}

  /**
   * Allocates a floating IP, associated at once when portId is given.
   * @throws InvalidArgumentError('floating_network_id') (missing / not external); NotFoundError('network' | 'port');
   *   ResourceExhaustedError when the external subnet is full; see {@link associate}
   */
  async create(floatingNetworkId: string, portId: string, caller: Caller): Promise<FloatingIpRecord> {
    if (!floatingNetworkId) throw new InvalidArgumentError('floating_network_id', 'is required');
    const net = (await this.networks.get(floatingNetworkId, caller)).value;
    if (!net.routerExternal) throw new InvalidArgumentError('floating_network_id', `network ${floatingNetworkId} is not router:external`);
    const id = this.d.newId();
    const port = await this.ports.create({ networkId: net.id, name: '', fixedIps: [], deviceId: id, deviceOwner: 'network:floatingip', securityGroupIds: [], portSecurityEnabled: false, macAddress: '', projectId: caller.projectId }, asService(caller));
    const rec: FloatingIpRecord = { id, projectId: caller.projectId, floatingNetworkId: net.id, floatingIpAddress: port.fixedIps[0]?.ipAddress ?? '', floatingPortId: port.id, portId: '', fixedIpAddress: '', routerId: '', status: 'DOWN', createdAtMs: this.d.nowMs() };
    await this.d.transact({ key: keys.floatingIp(id), expected: '', next: JSON.stringify(rec), ops: [{ kind: 'sadd', key: keys.floatingIps(), a1: id }] });
    if (!portId) return rec;
    try {
      return await this.update(id, portId, caller);
    } catch (e) {
      await this.delete(id, caller).catch(() => undefined);
      throw e;
    }
  }

  /** @throws InvalidArgumentError('floating_ip_id'); NotFoundError('floating_ip') */
  async get(id: string, caller: Caller): Promise<Stored<FloatingIpRecord>> {
    if (!id) throw new InvalidArgumentError('floating_ip_id', 'is required');
    const s = await readJson<FloatingIpRecord>(this.d.redis, keys.floatingIp(id));
    if (!s || (!caller.isAdmin && s.value.projectId !== caller.projectId)) throw new NotFoundError('floating_ip', id);
    return s;
  }

  async list(caller: Caller): Promise<FloatingIpRecord[]> {
    const all = await readJsonMany<FloatingIpRecord>(this.d.redis, (await this.d.redis.smembers(keys.floatingIps())).map(keys.floatingIp));
    return all.filter((f) => caller.isAdmin || f.projectId === caller.projectId).sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /**
   * Associates to `portId` (its first fixed IP), or disassociates with ''. A port has one floating IP at most.
   * @throws NotFoundError('port'); FailedPreconditionError('port_has_no_fixed_ip' | 'external_gateway_unreachable'
   *   (no router links the port's subnet to the floating network) | 'port_has_floating_ip')
   */
  async update(id: string, portId: string, caller: Caller): Promise<FloatingIpRecord> {
    let target: Pick<FloatingIpRecord, 'portId' | 'fixedIpAddress' | 'routerId'> = { portId: '', fixedIpAddress: '', routerId: '' };
    const fip = (await this.get(id, caller)).value;
    if (portId) {
      const port = (await this.ports.get(portId, caller)).value;
      const fixed = port.fixedIps[0];
      if (!fixed) throw new FailedPreconditionError(`port ${portId} has no fixed IP`, 'port_has_no_fixed_ip');
      const subnet = (await this.subnets.load(fixed.subnetId))?.value;
      const router = (await this.routers.list(asService(caller))).find(
        (r) => r.externalNetworkId === fip.floatingNetworkId && r.interfaces.some((i) => i.subnetId === fixed.subnetId) && !!subnet && inCidr(fixed.ipAddress, subnet.cidr),
      );
      if (!router) throw new FailedPreconditionError(`no router connects subnet ${fixed.subnetId} of port ${portId} to external network ${fip.floatingNetworkId}`, 'external_gateway_unreachable');
      target = { portId, fixedIpAddress: fixed.ipAddress, routerId: router.id };
      if (fip.portId !== portId && (await this.d.claim({ key: keys.floatingIpOfPort(portId), owner: id })) !== 'claimed') {
        throw new FailedPreconditionError(`port ${portId} already has a floating IP`, 'port_has_floating_ip');
      }
    }
    return retryCas(`floating IP ${id}`, async () => {
      const s = await this.get(id, caller);
      const next: FloatingIpRecord = { ...s.value, ...target, status: target.portId ? 'ACTIVE' : 'DOWN' };
      const old = s.value.portId;
      const res = await this.d.transact({
        key: keys.floatingIp(id),
        expected: s.raw,
        next: JSON.stringify(next),
        ops: old && old !== target.portId ? [{ kind: 'delifeq', key: keys.floatingIpOfPort(old), a1: id }] : [],
      });
      return res.ok ? next : undefined;
    });
  }

  /** Disassociates, then frees the address (its port). @throws NotFoundError('floating_ip') */
  async delete(id: string, caller: Caller): Promise<void> {
    const s = await this.get(id, caller);
    const res = await this.d.transact({
      key: keys.floatingIp(id),
      expected: s.raw,
      next: '',
      ops: [{ kind: 'srem', key: keys.floatingIps(), a1: id }, ...(s.value.portId ? [{ kind: 'delifeq' as const, key: keys.floatingIpOfPort(s.value.portId), a1: id }] : [])],
    });
    if (!res.ok) throw new FailedPreconditionError(`floating IP ${id} changed while being deleted; retry`, 'concurrent_update');
    await this.ports.delete(s.value.floatingPortId, asService(caller)).catch(() => undefined);
  }
}
