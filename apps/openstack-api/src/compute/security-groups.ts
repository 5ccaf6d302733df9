import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAll } from '@minicloud/client';
import type { compute, network } from '@minicloud/proto';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';

type Network = ApiDeps['backends']['network'];

/**
 * The ports of the given servers, in one ListPorts call (paged) by device ids, as Nova reads a page
 * of servers' ports from Neutron at once.
 */
async function portsOf(net: Network, ctx: CallContext, serverIds: readonly string[]): Promise<network.Port[]> {
  if (serverIds.length === 0) return [];
  return listAll(async (pageToken) => {
    const res = await net.listPorts({ deviceIds: [...serverIds], page: { pageSize: 1000, pageToken } }, ctx);
    return { items: res.ports, next: res.page?.nextPageToken ?? '' };
  });
}

/**
 * Each server's security groups as Nova 2.1 shows them (`[{"name": ...}]`): the union of its ports'
 * groups by name, in port order. Two network calls whatever the number of servers: ListPorts by
 * device ids and ListSecurityGroups; a group the caller cannot see is shown by its id. A server
 * without ports has none ([]).
 * @returns server id -> names
 */
export async function serverSecurityGroupNames(net: Network, ctx: CallContext, serverIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(serverIds.map((id) => [id, []]));
  const ports = await portsOf(net, ctx, serverIds);
  if (!ports.some((p) => p.securityGroupIds.length > 0)) return out;
  const names = new Map((await net.listSecurityGroups({}, ctx)).securityGroups.map((g) => [g.id, g.name]));
  for (const p of ports) {
    const list = out.get(p.deviceId);
    if (!list) continue;
    for (const id of p.securityGroupIds) {
      const name = names.get(id) ?? id;
      if (!list.includes(name)) list.push(name);
    }
  }
  return out;
}

/**
 * A group the caller sees, by id or name (the caller's own project's first when several share the
 * name), as Nova looks a group up in Neutron for the security group actions.
 * @throws HttpError 404 "Security group X not found." (Nova's SecurityGroupNotFound); 409 when the
 *   name matches several groups (Neutron's NoUniqueMatch, as Nova passes it on)
 */
function findGroup(groups: network.SecurityGroup[], nameOrId: string, projectId: string): network.SecurityGroup {
  const byId = groups.find((g) => g.id === nameOrId);
  if (byId) return byId;
  const named = groups.filter((g) => g.name === nameOrId);
  const own = named.filter((g) => g.projectId === projectId);
  const matches = own.length > 0 ? own : named;
  if (matches.length === 0) throw new HttpError(404, `Security group ${nameOrId} not found.`);
  if (matches.length > 1) throw new HttpError(409, `Multiple security_group matches found for name '${nameOrId}', use an ID to be more specific.`);
  return matches[0];
}

/**
 * A Neutron rule in Nova's proxy form (nova/network/security_group_api.py and the os-security-groups
 * view): ip_protocol, from_port/to_port (a protocol without ports: tcp/udp 1..65535, others -1),
 * `group` {name, tenant_id} for a remote group, else `ip_range` {cidr}.
 */
function novaRule(r: network.SecurityGroupRule, groups: network.SecurityGroup[]): Record<string, unknown> {
  const noPorts = r.portRangeMin === undefined && r.portRangeMax === undefined;
  const anyPorts = r.protocol && noPorts ? (['tcp', 'udp'].includes(r.protocol.toLowerCase()) ? [1, 65535] : [-1, -1]) : undefined;
  const remote = r.remoteGroupId ? groups.find((g) => g.id === r.remoteGroupId) : undefined;
  return {
    id: r.id,
    parent_group_id: r.securityGroupId,
    ip_protocol: r.protocol || null,
    from_port: anyPorts ? anyPorts[0] : (r.portRangeMin ?? null),
    to_port: anyPorts ? anyPorts[1] : (r.portRangeMax ?? null),
    group: r.remoteGroupId ? { name: remote?.name ?? null, tenant_id: remote?.projectId ?? null } : {},
    ip_range: !r.remoteGroupId && r.remoteIpPrefix ? { cidr: r.remoteIpPrefix } : {},
  };
}

/** A group in Nova's os-security-groups view: id, name, description, tenant_id and its ingress rules (Nova proxies only those). */
export function novaSecurityGroup(g: network.SecurityGroup, groups: network.SecurityGroup[]): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.projectId,
    rules: g.rules.filter((r) => r.direction === 'ingress').map((r) => novaRule(r, groups)),
  };
}

/**
 * addSecurityGroup / removeSecurityGroup on a server, as Nova 2.1 with Neutron: the server is read
 * first with the caller's token (another project's server: 404), the group looked up among the
 * groups the caller sees (404 unknown), then every port of the server updated with the caller's
 * token, all or none (a refused update restores the ports already changed). Adding a group a port
 * already has leaves that port as it is; a port with port security off is Nova's 400; removing a
 * group that no port of the server has is Nova's 400. Answers 202 with no body.
 */
export async function securityGroupAction(deps: ApiDeps, req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, action: 'addSecurityGroup' | 'removeSecurityGroup', groupName: string): Promise<FastifyReply> {
  const ctx = callContext(req);
  const server = (await deps.backends.compute.getServer({ serverId: req.params.id }, ctx)).server!;
  const net = deps.backends.network;
  const [groups, ports] = await Promise.all([net.listSecurityGroups({}, ctx).then((r) => r.securityGroups), portsOf(net, ctx, [server.id])]);
  const group = findGroup(groups, groupName, server.projectId);
  let changes: { port: network.Port; groupIds: string[] }[];
  if (action === 'addSecurityGroup') {
    const missing = ports.filter((p) => !p.securityGroupIds.includes(group.id));
    const closed = missing.find((p) => !p.portSecurityEnabled);
    if (closed) throw new HttpError(400, `Security group ${group.name} cannot be applied to port ${closed.id} because port security is disabled.`);
    changes = missing.map((port) => ({ port, groupIds: [...port.securityGroupIds, group.id] }));
  } else {
    const holding = ports.filter((p) => p.securityGroupIds.includes(group.id));
    if (holding.length === 0) throw new HttpError(400, `Security group ${group.name} not associated with the instance ${server.id}`);
    changes = holding.map((port) => ({ port, groupIds: port.securityGroupIds.filter((id) => id !== group.id) }));
  }
  // All ports or none: a refused update puts the ports already changed back as they were.
  const done: { portId: string; groupIds: string[] }[] = [];
  try {
    for (const c of changes) {
      const before = [...c.port.securityGroupIds];
      await net.updatePort({ portId: c.port.id, securityGroupIds: c.groupIds, replaceSecurityGroups: true }, ctx);
      done.push({ portId: c.port.id, groupIds: before });
    }
  } catch (e) {
    await Promise.allSettled(done.map((d) => net.updatePort({ portId: d.portId, securityGroupIds: d.groupIds, replaceSecurityGroups: true }, ctx)));
    throw e;
  }
  return reply.code(202).send();
}

/**
 * GET /servers/{id}/os-security-groups: the groups of the server's ports in Nova's view
 * (`{"security_groups": [{id, name, description, tenant_id, rules}]}`), read with the caller's token
 * (another project's server: 404); GET /os-security-groups and /os-security-groups/{id}, Nova's
 * proxy of the network service's groups in the same view.
 */
export async function serverSecurityGroupRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const net = deps.backends.network;

  // Nova 2.1's os-security-groups proxy (read side), which clients use to find a group by name or
  // id before the add/remove actions: list (the caller's project's groups; all_tenants: every group
  // the caller sees) and show (a group the caller cannot see: 404).
  app.get('/os-security-groups', async (req) => {
    const ctx = callContext(req);
    const allTenants = ['1', 'true', 'True', ''].includes(queryValue(req, 'all_tenants') ?? 'no');
    const [groups, me] = await Promise.all([net.listSecurityGroups({}, ctx).then((r) => r.securityGroups), deps.backends.identity.validateToken({}, ctx).then((r) => r.info!)]);
    const shown = allTenants ? groups : groups.filter((g) => g.projectId === me.projectId);
    return { security_groups: shown.map((g) => novaSecurityGroup(g, groups)) };
  });
  app.get<{ Params: { id: string } }>('/os-security-groups/:id', async (req) => {
    const ctx = callContext(req);
    const [group, groups] = await Promise.all([net.getSecurityGroup({ securityGroupId: req.params.id }, ctx).then((r) => r.securityGroup!), net.listSecurityGroups({}, ctx).then((r) => r.securityGroups)]);
    return { security_group: novaSecurityGroup(group, groups) };
  });

  app.get<{ Params: { id: string } }>('/servers/:id/os-security-groups', async (req) => {
    const ctx = callContext(req);
    const server = (await deps.backends.compute.getServer({ serverId: req.params.id }, ctx)).server!;
    const [groups, ports] = await Promise.all([net.listSecurityGroups({}, ctx).then((r) => r.securityGroups), portsOf(net, ctx, [server.id])]);
    const ids = [...new Set(ports.flatMap((p) => p.securityGroupIds))];
    const byId = new Map(groups.map((g) => [g.id, g]));
    return { security_groups: ids.flatMap((id) => (byId.has(id) ? [novaSecurityGroup(byId.get(id)!, groups)] : [])) };
  });
}

/**
 * The servers with their floating IPs among their addresses, as Nova's network info cache shows them
 * once Neutron reports the association: after each fixed address, the floating IP mapped to it
 * (`OS-EXT-IPS:type` floating, the port's MAC, the same network). One network call (ListFloatingIps
 * with the caller's token: the floating IPs the caller sees) whatever the number of servers; none
 * when no server has an address.
 */
export async function withFloatingAddresses(net: Network, ctx: CallContext, servers: readonly compute.Server[]): Promise<compute.Server[]> {
  if (!servers.some((s) => s.addresses.length > 0)) return [...servers];
  const fips = (await net.listFloatingIps({}, ctx)).floatingIps.filter((f) => f.portId);
  if (fips.length === 0) return [...servers];
  const byFixed = new Map(fips.map((f) => [`${f.portId}/${f.fixedIpAddress}`, f]));
  return servers.map((s) => ({
    ...s,
    addresses: s.addresses.flatMap((a) => {
      const f = a.type !== 'floating' ? byFixed.get(`${a.portId}/${a.ipAddress}`) : undefined;
      return f ? [a, { ...a, ipAddress: f.floatingIpAddress, type: 'floating' }] : [a];
    }),
  }));
}
