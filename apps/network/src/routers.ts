import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { Networks } from './networks';
import type { Ports } from './ports';
import type { RouterRecord } from './records';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';
import type { Subnets } from './subnets';

/** The service itself acting for a router (ports on external networks need admin). */
const asService = (c: Caller): Caller => ({ projectId: c.projectId, isAdmin: true, requestId: c.requestId });

/**
 * Routers (Neutron L3): an interface is a port holding a tenant subnet's gateway IP
 * (device_owner network:router_interface); the gateway is a port on an external network
 * (network:router_gateway) whose IP is the SNAT address. Project-scoped like ports.
 */
export class Routers {
  constructor(
    private readonly d: StoreDeps,
    private readonly networks: Networks,
    private readonly subnets: Subnets,
    private readonly ports: Ports,
  ) {}

  /** @throws InvalidArgumentError('name') */
  async create(name: string, caller: Caller): Promise<RouterRecord> {
    if (!name) throw new InvalidArgumentError('name', 'is required');
    const r: RouterRecord = { id: this.d.newId(), name, projectId: caller.projectId, externalNetworkId: '', externalIp: '', externalPortId: '', enableSnat: false, interfaces: [], status: 'ACTIVE', createdAtMs: this.d.nowMs() };
    await this.d.transact({ key: keys.router(r.id), expected: '', next: JSON.stringify(r), ops: [{ kind: 'sadd', key: keys.routers(), a1: r.id }] });
    return r;
  }

  /** @throws InvalidArgumentError('router_id'); NotFoundError('router') (another project's too) */
  async get(id: string, caller: Caller): Promise<Stored<RouterRecord>> {
    if (!id) throw new InvalidArgumentError('router_id', 'is required');
    const s = await readJson<RouterRecord>(this.d.redis, keys.router(id));
    if (!s || (!caller.isAdmin && s.value.projectId !== caller.projectId)) throw new NotFoundError('router', id);
    return s;
  }

  /** Routers the caller may see (every router for admin / internal use), oldest first. */
  async list(caller: Caller): Promise<RouterRecord[]> {
    const all = await readJsonMany<RouterRecord>(this.d.redis, (await this.d.redis.smembers(keys.routers())).map(keys.router));
    return all.filter((r) => caller.isAdmin || r.projectId === caller.projectId).sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /**
   * Attaches a subnet: a port with the subnet's gateway IP. A subnet has one router at most.
   * @throws NotFoundError('router' | 'subnet'); FailedPreconditionError('subnet_has_no_gateway' |
   *   'subnet_already_routed'); AlreadyExistsError('ip_address') when a port holds the gateway IP
   */
  async addInterface(routerId: string, subnetId: string, caller: Caller): Promise<RouterRecord> {
    await this.get(routerId, caller);
    const subnet = (await this.subnets.get(subnetId, caller)).value;
    await this.networks.getOwned(subnet.networkId, caller);
    if (!subnet.gatewayIp) throw new FailedPreconditionError(`subnet ${subnetId} has no gateway IP`, 'subnet_has_no_gateway');
    for (const r of await this.list(asService(caller))) {
      if (r.interfaces.some((i) => i.subnetId === subnetId)) throw new FailedPreconditionError(`subnet ${subnetId} is already attached to router ${r.id}`, 'subnet_already_routed');
    }
    const port = await this.ports.create(
      { networkId: subnet.networkId, name: '', fixedIps: [{ subnetId, ipAddress: subnet.gatewayIp }], deviceId: routerId, deviceOwner: 'network:router_interface', securityGroupIds: [], portSecurityEnabled: false, macAddress: '', projectId: '', takeGatewayIp: true },
      // the router's own port: network:* device owners are the service's to set (the caller owns the network, checked above)
      asService(caller),
    );
    try {
      return await this.change(routerId, caller, (r) => ({ ...r, interfaces: [...r.interfaces, { subnetId, portId: port.id }] }));
    } catch (e) {
      await this.ports.delete(port.id, asService(caller)).catch(() => undefined);
      throw e;
    }
  }

  /** Detaches a subnet and deletes its interface port. @throws NotFoundError('router' | 'router_interface'); FailedPreconditionError('router_interface_in_use') */
  async removeInterface(routerId: string, subnetId: string, caller: Caller): Promise<RouterRecord> {
    const r = (await this.get(routerId, caller)).value;
    const iface = r.interfaces.find((i) => i.subnetId === subnetId);
    if (!iface) throw new NotFoundError('router_interface', subnetId);
    const fips = await this.floatingIpsUsing(routerId);
    if (fips.length) throw new FailedPreconditionError(`router ${routerId} serves ${fips.length} floating IP(s) on its subnets; disassociate them first`, 'router_interface_in_use');
    const next = await this.change(routerId, caller, (cur) => ({ ...cur, interfaces: cur.interfaces.filter((i) => i.subnetId !== subnetId) }));
    await this.ports.delete(iface.portId, asService(caller)).catch((e) => { if (!(e instanceof NotFoundError)) throw e; });
    return next;
  }

  /**
   * Sets (or clears with '') the external gateway: a port on the external network whose IP becomes
   * the router's external (SNAT) address.
   * @throws NotFoundError('router' | 'network'); InvalidArgumentError('external_network_id') when the
   *   network is not router:external; FailedPreconditionError('gateway_in_use') clearing while floating IPs use it
   */
  async setGateway(routerId: string, externalNetworkId: string, enableSnat: boolean, caller: Caller): Promise<RouterRecord> {
    const r = (await this.get(routerId, caller)).value;
    if (r.externalPortId) {
      if (!externalNetworkId || externalNetworkId !== r.externalNetworkId) {
        const fips = await this.floatingIpsUsing(routerId);
        if (fips.length) throw new FailedPreconditionError(`router ${routerId} serves ${fips.length} floating IP(s)`, 'gateway_in_use');
      } else {
        return this.change(routerId, caller, (cur) => ({ ...cur, enableSnat }));
      }
    }
    let port: { id: string; ip: string } | undefined;
    if (externalNetworkId) {
      const net = (await this.networks.get(externalNetworkId, caller)).value;
      if (!net.routerExternal) throw new InvalidArgumentError('external_network_id', `network ${externalNetworkId} is not router:external`);
      const p = await this.ports.create({ networkId: net.id, name: '', fixedIps: [], deviceId: routerId, deviceOwner: 'network:router_gateway', securityGroupIds: [], portSecurityEnabled: false, macAddress: '', projectId: r.projectId }, asService(caller));
      port = { id: p.id, ip: p.fixedIps[0]?.ipAddress ?? '' };
    }
    const old = r.externalPortId;
    const next = await this.change(routerId, caller, (cur) => ({ ...cur, externalNetworkId, externalIp: port?.ip ?? '', externalPortId: port?.id ?? '', enableSnat: externalNetworkId ? enableSnat : false }));
    if (old) await this.ports.delete(old, asService(caller)).catch(() => undefined);
    return next;
  }

  /** Deletes a router with no interfaces (its gateway port goes with it). @throws FailedPreconditionError('router_in_use') */
  async delete(routerId: string, caller: Caller): Promise<void> {
    const s = await this.get(routerId, caller);
    if (s.value.interfaces.length) throw new FailedPreconditionError(`router ${routerId} still has ${s.value.interfaces.length} interface(s)`, 'router_in_use');
    if ((await this.floatingIpsUsing(routerId)).length) throw new FailedPreconditionError(`router ${routerId} serves floating IPs`, 'router_in_use');
    const res = await this.d.transact({ key: keys.router(routerId), expected: s.raw, next: '', ops: [{ kind: 'srem', key: keys.routers(), a1: routerId }] });
    if (!res.ok) throw new FailedPreconditionError(`router ${routerId} changed while being deleted; retry`, 'concurrent_update');
    if (s.value.externalPortId) await this.ports.delete(s.value.externalPortId, asService(caller)).catch(() => undefined);
  }

  private async floatingIpsUsing(routerId: string): Promise<string[]> {
    const ids = await this.d.redis.smembers(keys.floatingIps());
    const fips = await readJsonMany<{ id: string; routerId: string }>(this.d.redis, ids.map(keys.floatingIp));
    return fips.filter((f) => f.routerId === routerId).map((f) => f.id);
  }

  private async change(id: string, caller: Caller, f: (r: RouterRecord) => RouterRecord): Promise<RouterRecord> {
    return retryCas(`router ${id}`, async () => {
      const s = await this.get(id, caller);
      const next = f(s.value);
      return (await this.d.transact({ key: keys.router(id), expected: s.raw, next: JSON.stringify(next) })).ok ? next : undefined;
    });
  }
}
