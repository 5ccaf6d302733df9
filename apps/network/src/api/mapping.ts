import { network } from '@minicloud/proto';
import type { FdbEntry } from '@minicloud/domain-network';
import type { AuthContext } from '@minicloud/platform-auth';
import { isCloudAdmin } from '@minicloud/platform-auth';
import { InvalidArgumentError, UnauthenticatedError } from '@minicloud/domain-errors';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord, SecurityGroupRuleRecord, SubnetPoolRecord, SubnetRecord } from '../records';
import type { SecurityGroupView } from '../security-groups';
import type { InterfaceChange, RoutesChange } from '../routers';
import type { Caller } from '../store/deps';

/** The caller of a gRPC call (the platform guarantees auth on non-public methods). */
export function callerOf(ctx: { auth?: AuthContext; requestId: string }): Caller {
  if (!ctx.auth) throw new UnauthenticatedError('missing token');
  return { projectId: ctx.auth.projectId, isAdmin: isCloudAdmin(ctx.auth), requestId: ctx.requestId };
}

export function toNetwork(n: NetworkRecord, subnetIds: string[]): network.Network {
  return {
    id: n.id,
    name: n.name,
    projectId: n.projectId,
    networkType: n.networkType,
    segmentationId: n.segmentationId,
    mtu: n.mtu,
    shared: n.shared,
    routerExternal: n.routerExternal,
    adminStateUp: n.adminStateUp,
    status: n.status,
    subnetIds,
    createdAt: new Date(n.createdAtMs),
    description: n.description ?? '',
  };
}

export function toSubnet(s: SubnetRecord): network.Subnet {
  return {
    id: s.id,
    networkId: s.networkId,
    projectId: s.projectId,
    name: s.name,
    cidr: s.cidr,
    ipVersion: s.ipVersion,
    subnetpoolId: s.subnetpoolId ?? '',
    gatewayIp: s.gatewayIp ?? '',
    allocationPools: s.allocationPools.map((p) => ({ start: p.start, end: p.end })),
    dnsNameservers: s.dnsNameservers,
    hostRoutes: s.hostRoutes,
    enableDhcp: s.enableDhcp,
    description: s.description ?? '',
  };
}

/** A port record -> the proto Port; `binding_host_id` only for an admin caller (Neutron's policy hides the host from members). */
export function toPort(p: PortRecord, admin: boolean): network.Port {
  return {
    id: p.id,
    name: p.name,
    networkId: p.networkId,
    projectId: p.projectId,
    macAddress: p.macAddress,
    fixedIps: p.fixedIps,
    deviceId: p.deviceId,
    deviceOwner: p.deviceOwner,
    // Neutron's get_port:binding:host_id is admin-only: a member does not learn the cloud's hosts.
    bindingHostId: admin ? p.bindingHostId : '',
    status: p.status,
    securityGroupIds: p.securityGroupIds,
    portSecurityEnabled: p.portSecurityEnabled,
    adminStateUp: p.adminStateUp,
    createdAt: new Date(p.createdAtMs),
    description: p.description ?? '',
  };
}

export function toRule(r: SecurityGroupRuleRecord): network.SecurityGroupRule {
  return {
    id: r.id,
    securityGroupId: r.securityGroupId,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol ?? '',
    portRangeMin: r.portRangeMin ?? undefined,
    portRangeMax: r.portRangeMax ?? undefined,
    remoteIpPrefix: r.remoteIpPrefix ?? '',
    remoteGroupId: r.remoteGroupId ?? '',
    description: r.description,
  };
}

export function toSecurityGroup(g: SecurityGroupView): network.SecurityGroup {
  return { id: g.id, name: g.name, projectId: g.projectId, description: g.description, stateful: g.stateful, rules: g.rules.map(toRule) };
}

export function toFdbEntry(e: FdbEntry): network.FdbEntry {
  return { networkId: e.networkId, segmentationId: e.segmentationId, tunnelIp: e.tunnelIp, macAddress: e.macAddress, ipAddress: e.ipAddress, portId: e.portId ?? '' };
}

/**
 * One page of a sorted list. page_token is the decimal offset returned by the previous page;
 * page_size 0 = everything.
 * @throws InvalidArgumentError('page.page_token' | 'page.page_size')
 */
export function paginate<T>(items: T[], page?: { pageSize: number; pageToken: string }): { items: T[]; nextPageToken: string } {
  const size = page?.pageSize ?? 0;
  if (size < 0) throw new InvalidArgumentError('page.page_size', `${size} is negative`);
  const offset = page?.pageToken ? Number(page.pageToken) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError('page.page_token', `"${page?.pageToken}" is not a token this service issued`);
  if (size === 0) return { items: items.slice(offset), nextPageToken: '' };
  const slice = items.slice(offset, offset + size);
  return { items: slice, nextPageToken: offset + size < items.length ? String(offset + size) : '' };
}

export function toRouter(r: RouterRecord): network.Router {
  return {
    id: r.id,
    name: r.name,
    projectId: r.projectId,
    externalNetworkId: r.externalNetworkId,
    externalIp: r.externalIp,
    enableSnat: r.enableSnat,
    interfaces: r.interfaces.map((i) => ({ subnetId: i.subnetId, portId: i.portId })),
    routes: (r.routes ?? []).map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
    status: r.status,
    adminStateUp: r.adminStateUp ?? true,
    externalPortId: r.externalPortId,
    externalSubnetId: r.externalSubnetId ?? '',
    createdAt: new Date(r.createdAtMs),
  };
}

/**
 * UpdateRouter's routes and routes_update as the routers' change.
 * @throws InvalidArgumentError('routes_update') for an unknown mode, or routes without a mode
 */
export function routesChangeOf(req: { routes: network.RouterRoute[]; routesUpdate: network.RoutesUpdate }): RoutesChange {
  const modes: Partial<Record<network.RoutesUpdate, 'replace' | 'add' | 'remove'>> = {
    [network.RoutesUpdate.ROUTES_UPDATE_REPLACE]: 'replace',
    [network.RoutesUpdate.ROUTES_UPDATE_ADD]: 'add',
    [network.RoutesUpdate.ROUTES_UPDATE_REMOVE]: 'remove',
  };
  if (req.routesUpdate === network.RoutesUpdate.ROUTES_UPDATE_UNSPECIFIED) {
    if (req.routes.length) throw new InvalidArgumentError('routes_update', 'routes are given but not whether they replace, add to or remove from the router\'s');
    return { mode: 'keep' };
  }
  const mode = modes[req.routesUpdate];
  if (!mode) throw new InvalidArgumentError('routes_update', `${String(req.routesUpdate)} is not a routes update mode`);
  return { mode, routes: req.routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })) };
}

/** An interface added or removed, as AddRouterInterface/RemoveRouterInterface answer it. */
export function toInterfaceChange(c: InterfaceChange): { router: network.Router; interface: network.RouterInterface; networkId: string } {
  return { router: toRouter(c.router), interface: { subnetId: c.subnetId, portId: c.portId }, networkId: c.networkId };
}

/** A subnet pool as the API shows it (allocations stay internal). */
export function toSubnetPool(p: SubnetPoolRecord): network.SubnetPool {
  return {
    id: p.id,
    name: p.name,
    projectId: p.projectId,
    prefixes: p.prefixes,
    defaultPrefixlen: p.defaultPrefixlen,
    minPrefixlen: p.minPrefixlen,
    maxPrefixlen: p.maxPrefixlen,
    shared: p.shared,
    isDefault: p.isDefault,
    ipVersion: 4,
    createdAt: new Date(p.createdAtMs),
  };
}

export function toFloatingIp(f: FloatingIpRecord): network.FloatingIp {
  return { id: f.id, projectId: f.projectId, floatingNetworkId: f.floatingNetworkId, floatingIpAddress: f.floatingIpAddress, portId: f.portId, fixedIpAddress: f.fixedIpAddress, routerId: f.routerId, status: f.status, createdAt: new Date(f.createdAtMs) };
}
