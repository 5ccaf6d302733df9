import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { cidrsOverlap, inCidr, MAX_ROUTES, normaliseRoutes, parseCidr, routesVia, validateRoutes, type StaticRoute } from '@minicloud/domain-network';
import type { L2pop } from './l2pop';
import type { Networks } from './networks';
import type { Ports } from './ports';
import type { PortRecord, RouterRecord, SubnetRecord } from './records';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';
import type { Subnets } from './subnets';

/** The service itself acting for a router (ports on external networks need admin). */
const asService = (c: Caller): Caller => ({ projectId: c.projectId, isAdmin: true, requestId: c.requestId });

/** What the router's gateway is set to: an external network, SNAT, and at most one chosen subnet/address for its port. */
export interface GatewayInput {
  /** '' clears the gateway. */
  externalNetworkId: string;
  enableSnat: boolean;
  /** Neutron's external_fixed_ips, at most one here (admin only, as Neutron's policy). */
  externalFixedIps: { subnetId: string; ipAddress: string }[];
}

/** A new router: name ('' allowed, as Neutron), admin state, an optional gateway, and the owner project (admin only when not the caller's). */
export interface CreateRouterInput {
  name: string;
  adminStateUp: boolean;
  gateway: GatewayInput | null;
  projectId: string;
}

/** An interface added or removed, with its network (Neutron's add/remove_router_interface answer). */
export interface InterfaceChange {
  router: RouterRecord;
  subnetId: string;
  portId: string;
  networkId: string;
}

const INTERFACE_OWNER = 'network:router_interface';

/** How an update changes a router's static routes: left alone, replaced, added to, or removed from. */
export type RoutesChange = { mode: 'keep' } | { mode: 'replace' | 'add' | 'remove'; routes: StaticRoute[] };

/** A router update: unset fields are kept. */
export interface RouterPatch {
  name?: string;
  adminStateUp?: boolean;
  routes?: RoutesChange;
}

/**
 * Routers (Neutron L3): an interface is a port holding a tenant subnet's gateway IP, or a port of the
 * caller's given to the router (device_owner network:router_interface); the gateway is a port on an
 * external network (network:router_gateway) whose IP is the SNAT address. Project-scoped like ports.
 */
export class Routers {
  constructor(
    private readonly d: StoreDeps,
    private readonly networks: Networks,
    private readonly subnets: Subnets,
    private readonly ports: Ports,
    /** Told of interface changes: a router joins its networks in every host's FDB that has one of them. */
    private readonly l2pop?: L2pop,
  ) {}

  /**
   * Creates a router, with its gateway when one is given; a gateway that fails deletes the router again.
   * @throws PermissionDeniedError when project_id is another project's and the caller is no admin;
   *   see {@link setGateway}
   */
  async create(input: CreateRouterInput, caller: Caller): Promise<RouterRecord> {
    if (input.projectId && input.projectId !== caller.projectId && !caller.isAdmin) throw new PermissionDeniedError('setting project_id requires role admin');
    const projectId = input.projectId || caller.projectId;
    const r: RouterRecord = { id: this.d.newId(), name: input.name, projectId, externalNetworkId: '', externalIp: '', externalPortId: '', externalSubnetId: '', enableSnat: false, adminStateUp: input.adminStateUp, interfaces: [], status: 'ACTIVE', createdAtMs: this.d.nowMs() };
    await this.d.transact({ key: keys.router(r.id), expected: '', next: JSON.stringify(r), ops: [{ kind: 'sadd', key: keys.routers(), a1: r.id }] });
    if (!input.gateway?.externalNetworkId) return r;
    try {
      return await this.setGateway(r.id, input.gateway, caller);
    } catch (e) {
      await this.delete(r.id, asService(caller)).catch(() => undefined);
      throw e;
    }
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
   * Renames, sets admin_state_up and changes the static routes (unset fields are kept), in one write.
   * Routes are checked as Neutron's extraroute does: well-formed (duplicates collapsed), each nexthop in
   * a subnet the router has a port on (interfaces and gateway) and not one of its own addresses, at
   * most {@link MAX_ROUTES} after the change. Adding a route it has, or removing one it lacks, changes nothing.
   * @throws NotFoundError('router'); InvalidArgumentError('routes')
   */
  async update(id: string, patch: RouterPatch, caller: Caller): Promise<RouterRecord> {
    const change = patch.routes ?? { mode: 'keep' };
    const asked = change.mode === 'keep' ? [] : normaliseRoutes(change.routes);
    if (change.mode === 'keep' && patch.name === undefined && patch.adminStateUp === undefined) return (await this.get(id, caller)).value;
    const key = (x: StaticRoute) => `${x.destination} ${x.nexthop}`;
    return retryCas(`router ${id}`, async () => {
      const s = await this.get(id, caller);
      const r = s.value;
      let routes = r.routes ?? [];
      if (change.mode === 'replace') routes = asked;
      if (change.mode === 'add') routes = normaliseRoutes([...routes, ...asked]);
      if (change.mode === 'remove') routes = routes.filter((x) => !asked.some((a) => key(a) === key(x)));
      // checked against the interfaces of the record the write compares with: one added or removed meanwhile fails the write, and it is retried
      if (change.mode === 'replace' || change.mode === 'add') validateRoutes(routes, await this.connectedNetworks(r), MAX_ROUTES);
      const next: RouterRecord = { ...r, name: patch.name ?? r.name, adminStateUp: patch.adminStateUp ?? r.adminStateUp ?? true, routes };
      return (await this.d.transact({ key: keys.router(id), expected: s.raw, next: JSON.stringify(next) })).ok ? next : undefined;
    });
  }

  /** The CIDRs of the subnets the router has ports on (interfaces and gateway) and those ports' addresses. */
  private async connectedNetworks(r: RouterRecord): Promise<{ cidrs: string[]; ownIps: string[] }> {
    const portIds = [...r.interfaces.map((i) => i.portId), ...(r.externalPortId ? [r.externalPortId] : [])];
    const ports = await readJsonMany<PortRecord>(this.d.redis, portIds.map(keys.port));
    const subnetIds = [...new Set(ports.flatMap((p) => p.fixedIps.map((f) => f.subnetId)))];
    const subnets = await readJsonMany<SubnetRecord>(this.d.redis, subnetIds.map(keys.subnet));
    return { cidrs: subnets.map((s) => s.cidr), ownIps: ports.flatMap((p) => p.fixedIps.map((f) => f.ipAddress)) };
  }

  /**
   * Attaches a subnet (a new port on its gateway IP) or a port of the caller's (which becomes the
   * interface), exactly one of the two. A router has one interface per subnet and no two interfaces
   * whose subnets overlap; a subnet's gateway IP serves one router.
   * @throws InvalidArgumentError('subnet_id' | 'port_id') (neither or both given, no gateway IP, no
   *   fixed IP, already on this router, overlapping another interface); NotFoundError('router' |
   *   'subnet' | 'port'); FailedPreconditionError('port_in_use' | 'subnet_already_routed');
   *   AlreadyExistsError('ip_address') when another port holds the gateway IP
   */
  async addInterface(routerId: string, target: { subnetId: string; portId: string }, caller: Caller): Promise<InterfaceChange> {
    if (!target.subnetId === !target.portId) {
      throw new InvalidArgumentError(target.subnetId ? 'port_id' : 'subnet_id', target.subnetId ? 'give subnet_id or port_id, not both' : 'subnet_id or port_id is required');
    }
    const router = (await this.get(routerId, caller)).value;
    return target.portId ? this.addPortInterface(router, target.portId, caller) : this.addSubnetInterface(router, target.subnetId, caller);
  }

  private async addSubnetInterface(router: RouterRecord, subnetId: string, caller: Caller): Promise<InterfaceChange> {
    const subnet = (await this.subnets.get(subnetId, caller)).value;
    await this.networks.getOwned(subnet.networkId, caller);
    if (!subnet.gatewayIp) throw new InvalidArgumentError('subnet_id', `subnet ${subnetId} has no gateway IP; a router interface needs one`);
    await this.assertAttachable(router, subnet);
    for (const r of await this.list(asService(caller))) {
      if (r.interfaces.some((i) => i.subnetId === subnetId)) throw new FailedPreconditionError(`subnet ${subnetId} is already attached to router ${r.id}`, 'subnet_already_routed');
    }
    const port = await this.ports.create(
      { networkId: subnet.networkId, name: '', fixedIps: [{ subnetId, ipAddress: subnet.gatewayIp }], deviceId: router.id, deviceOwner: INTERFACE_OWNER, securityGroupIds: [], portSecurityEnabled: false, macAddress: '', projectId: router.projectId, takeGatewayIp: true },
      // the router's own port: network:* device owners are the service's to set (the caller owns the network, checked above)
      asService(caller),
    );
    try {
      const next = await this.change(router.id, caller, (r) => ({ ...r, interfaces: [...r.interfaces, { subnetId, portId: port.id }] }));
      await this.refreshFdbs(next, subnet.networkId, caller.requestId);
      return { router: next, subnetId, portId: port.id, networkId: subnet.networkId };
    } catch (e) {
      await this.ports.delete(port.id, asService(caller)).catch(() => undefined);
      throw e;
    }
  }

  private async addPortInterface(router: RouterRecord, portId: string, caller: Caller): Promise<InterfaceChange> {
    const port = (await this.ports.get(portId, caller)).value;
    if (port.deviceId || port.deviceOwner) throw new FailedPreconditionError(`port ${portId} is in use by device ${port.deviceId} (${port.deviceOwner})`, 'port_in_use');
    const fixed = port.fixedIps[0];
    if (!fixed) throw new InvalidArgumentError('port_id', `port ${portId} has no fixed IP; a router interface needs one`);
    if (port.fixedIps.length > 1) throw new InvalidArgumentError('port_id', `port ${portId} has ${port.fixedIps.length} fixed IPs; a router interface port has one`);
    const subnet = await this.subnets.load(fixed.subnetId);
    if (!subnet) throw new NotFoundError('subnet', fixed.subnetId);
    await this.assertAttachable(router, subnet.value);
    const free = (cur: PortRecord) => !cur.deviceId && !cur.deviceOwner;
    await this.ports.setDevice(portId, router.id, INTERFACE_OWNER, asService(caller), free);
    try {
      const next = await this.change(router.id, caller, (r) => ({ ...r, interfaces: [...r.interfaces, { subnetId: fixed.subnetId, portId }] }));
      await this.refreshFdbs(next, port.networkId, caller.requestId);
      return { router: next, subnetId: fixed.subnetId, portId, networkId: port.networkId };
    } catch (e) {
      await this.ports.setDevice(portId, '', '', asService(caller)).catch(() => undefined);
      throw e;
    }
  }

  /** Neutron's checks before an interface: not twice on one subnet, no overlap with another interface's subnet. */
  private async assertAttachable(router: RouterRecord, subnet: SubnetRecord): Promise<void> {
    if (router.interfaces.some((i) => i.subnetId === subnet.id)) throw new InvalidArgumentError('subnet_id', `router ${router.id} already has a port on subnet ${subnet.id}`);
    const cidr = parseCidr(subnet.cidr);
    for (const i of router.interfaces) {
      const other = await this.subnets.load(i.subnetId);
      if (other && cidrsOverlap(cidr, parseCidr(other.value.cidr))) {
        throw new InvalidArgumentError('subnet_id', `cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${other.value.cidr} of subnet ${other.value.id} on router ${router.id}`);
      }
    }
  }

  /**
   * Detaches the interface on a subnet and/or port (both given: they must name the same interface)
   * and deletes its port, as Neutron does.
   * @throws InvalidArgumentError('subnet_id') when neither is given; NotFoundError('router' |
   *   'router_interface'); FailedPreconditionError('router_interface_in_use') while floating IPs use the router,
   *   FailedPreconditionError('router_interface_in_use_by_route') while a static route's nexthop is on its subnet
   */
  async removeInterface(routerId: string, target: { subnetId: string; portId: string }, caller: Caller): Promise<InterfaceChange> {
    if (!target.subnetId && !target.portId) throw new InvalidArgumentError('subnet_id', 'subnet_id or port_id is required');
    const r = (await this.get(routerId, caller)).value;
    const iface = r.interfaces.find((i) => (!target.subnetId || i.subnetId === target.subnetId) && (!target.portId || i.portId === target.portId));
    if (!iface) throw new NotFoundError('router_interface', target.portId || target.subnetId, `router ${routerId} has no interface ${target.portId ? `with port ${target.portId}` : ''}${target.portId && target.subnetId ? ' and' : ''}${target.subnetId ? ` on subnet ${target.subnetId}` : ''}`);
    const subnet = await this.subnets.load(iface.subnetId);
    const fips = await this.floatingIpsUsing(routerId, subnet?.value.cidr);
    if (fips.length) throw new FailedPreconditionError(`router ${routerId} serves ${fips.length} floating IP(s) on subnet ${iface.subnetId}; disassociate them first`, 'router_interface_in_use');
    const port = await readJson<PortRecord>(this.d.redis, keys.port(iface.portId));
    const next = await this.change(routerId, caller, (cur) => {
      // checked on the record written, so a route added meanwhile is seen
      const using = subnet ? routesVia(cur.routes ?? [], subnet.value.cidr) : [];
      if (using.length) throw new FailedPreconditionError(`router interface on subnet ${iface.subnetId} of router ${routerId} cannot be deleted, as it is required by one or more routes (${using.map((x) => `${x.destination} via ${x.nexthop}`).join(', ')})`, 'router_interface_in_use_by_route');
      return { ...cur, interfaces: cur.interfaces.filter((i) => i.portId !== iface.portId) };
    });
    await this.ports.delete(iface.portId, asService(caller)).catch((e) => { if (!(e instanceof NotFoundError)) throw e; });
    if (port) await this.refreshFdbs(next, port.value.networkId, caller.requestId);
    return { router: next, subnetId: iface.subnetId, portId: iface.portId, networkId: port?.value.networkId ?? '' };
  }

  /**
   * Sets (or clears with '') the external gateway: a port on the external network whose IP becomes
   * the router's external (SNAT) address. The same network again with no fixed IPs asked only changes SNAT.
   * @throws NotFoundError('router' | 'network'); InvalidArgumentError('external_network_id') when the
   *   network is not router:external, InvalidArgumentError('external_fixed_ips') for more than one;
   *   PermissionDeniedError for external_fixed_ips without admin; FailedPreconditionError('gateway_in_use')
   *   changing or clearing while floating IPs use it
   */
  async setGateway(routerId: string, gw: GatewayInput, caller: Caller): Promise<RouterRecord> {
    const { externalNetworkId, enableSnat, externalFixedIps } = gw;
    if (externalFixedIps.length > 1) throw new InvalidArgumentError('external_fixed_ips', 'at most one fixed IP is served for a router gateway');
    if (externalFixedIps.length && !caller.isAdmin) throw new PermissionDeniedError('setting external_fixed_ips of a router gateway requires role admin');
    if (externalFixedIps.length && !externalNetworkId) throw new InvalidArgumentError('external_fixed_ips', 'needs a network_id');
    const r = (await this.get(routerId, caller)).value;
    if (r.externalPortId) {
      if (externalNetworkId === r.externalNetworkId && !externalFixedIps.length) return this.change(routerId, caller, (cur) => ({ ...cur, enableSnat }));
      const fips = await this.floatingIpsUsing(routerId);
      if (fips.length) throw new FailedPreconditionError(`router ${routerId} serves ${fips.length} floating IP(s) through its gateway`, 'gateway_in_use');
    }
    let port: { id: string; ip: string; subnetId: string } | undefined;
    if (externalNetworkId) {
      const net = (await this.networks.get(externalNetworkId, caller)).value;
      if (!net.routerExternal) throw new InvalidArgumentError('external_network_id', `network ${externalNetworkId} is not router:external`);
      const p = await this.ports.create({ networkId: net.id, name: '', fixedIps: externalFixedIps, deviceId: routerId, deviceOwner: 'network:router_gateway', securityGroupIds: [], portSecurityEnabled: false, macAddress: '', projectId: r.projectId }, asService(caller));
      port = { id: p.id, ip: p.fixedIps[0]?.ipAddress ?? '', subnetId: p.fixedIps[0]?.subnetId ?? '' };
    }
    const old = r.externalPortId;
    let next: RouterRecord;
    try {
      next = await this.change(routerId, caller, (cur) => ({ ...cur, externalNetworkId, externalIp: port?.ip ?? '', externalPortId: port?.id ?? '', externalSubnetId: port?.subnetId ?? '', enableSnat: externalNetworkId ? enableSnat : false }));
    } catch (e) {
      if (port) await this.ports.delete(port.id, asService(caller)).catch(() => undefined);
      throw e;
    }
    if (old) await this.ports.delete(old, asService(caller)).catch(() => undefined);
    return next;
  }

  /**
   * Deletes a router with no interfaces (its gateway port goes with it).
   * @throws FailedPreconditionError('router_in_use') while it has interfaces or serves floating IPs
   */
  async delete(routerId: string, caller: Caller): Promise<void> {
    const s = await this.get(routerId, caller);
    if (s.value.interfaces.length) throw new FailedPreconditionError(`Router ${routerId} still has ports (${s.value.interfaces.length} interface(s))`, 'router_in_use');
    if ((await this.floatingIpsUsing(routerId)).length) throw new FailedPreconditionError(`router ${routerId} serves floating IPs`, 'router_in_use');
    const res = await this.d.transact({ key: keys.router(routerId), expected: s.raw, next: '', ops: [{ kind: 'srem', key: keys.routers(), a1: routerId }] });
    if (!res.ok) throw new FailedPreconditionError(`router ${routerId} changed while being deleted; retry`, 'concurrent_update');
    if (s.value.externalPortId) await this.ports.delete(s.value.externalPortId, asService(caller)).catch(() => undefined);
  }

  /**
   * Bumps the FDB generation of every host that holds one of the router's networks (and `changed`,
   * the network whose interface came or went), so agents fetch tables with or without it.
   */
  private async refreshFdbs(r: RouterRecord, changed: string, requestId?: string): Promise<void> {
    if (!this.l2pop) return;
    const ports = await readJsonMany<PortRecord>(this.d.redis, r.interfaces.map((i) => keys.port(i.portId)));
    const hosts = await this.l2pop.hostsOnNetworks([changed, ...ports.map((p) => p.networkId)]);
    await this.l2pop.bump(hosts, requestId);
  }

  /** Floating IPs associated through the router (only those whose fixed IP is in `cidr` when given). */
  private async floatingIpsUsing(routerId: string, cidr?: string): Promise<string[]> {
    const ids = await this.d.redis.smembers(keys.floatingIps());
    const fips = await readJsonMany<{ id: string; routerId: string; fixedIpAddress: string }>(this.d.redis, ids.map(keys.floatingIp));
    return fips.filter((f) => f.routerId === routerId && (cidr === undefined || inCidr(f.fixedIpAddress, cidr))).map((f) => f.id);
  }

  private async change(id: string, caller: Caller, f: (r: RouterRecord) => RouterRecord): Promise<RouterRecord> {
    return retryCas(`router ${id}`, async () => {
      const s = await this.get(id, caller);
      const next = f(s.value);
      return (await this.d.transact({ key: keys.router(id), expected: s.raw, next: JSON.stringify(next) })).ok ? next : undefined;
    });
  }
}
