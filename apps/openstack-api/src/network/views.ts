import type { network } from '@minicloud/proto';
import { invalidField } from '../http/errors';

/** Neutron's timestamp form: ISO 8601 UTC to the second ("2026-12-07T01:02:03Z"). */
export function neutronTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

/** A network as Neutron shows it (core attributes plus external-net, net-mtu, port-security). */
export function networkView(n: network.Network): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.projectId,
    project_id: n.projectId,
    status: n.status || 'ACTIVE',
    subnets: n.subnetIds,
    admin_state_up: n.adminStateUp,
    shared: n.shared,
    'router:external': n.routerExternal,
    mtu: n.mtu,
    port_security_enabled: true,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    description: n.description,
    tags: [],
    created_at: neutronTime(n.createdAt),
    updated_at: neutronTime(n.createdAt),
    revision_number: 1,
  };
}

/** A subnet as Neutron shows it. */
export function subnetView(s: network.Subnet): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    network_id: s.networkId,
    tenant_id: s.projectId,
    project_id: s.projectId,
    cidr: s.cidr,
    ip_version: s.ipVersion || 4,
    gateway_ip: s.gatewayIp || null,
    allocation_pools: s.allocationPools.map((p) => ({ start: p.start, end: p.end })),
    dns_nameservers: s.dnsNameservers,
    host_routes: s.hostRoutes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    enable_dhcp: s.enableDhcp,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: s.subnetpoolId || null,
    service_types: [],
    description: s.description,
    tags: [],
    revision_number: 1,
  };
}

/** A port as Neutron shows it (with the binding and port-security extensions' attributes). */
export function portView(p: network.Port): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    network_id: p.networkId,
    tenant_id: p.projectId,
    project_id: p.projectId,
    mac_address: p.macAddress,
    fixed_ips: p.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
    device_id: p.deviceId,
    device_owner: p.deviceOwner,
    status: p.status || 'DOWN',
    security_groups: p.securityGroupIds,
    port_security_enabled: p.portSecurityEnabled,
    admin_state_up: p.adminStateUp,
    'binding:host_id': p.bindingHostId,
    'binding:vnic_type': 'normal',
    'binding:vif_type': p.bindingHostId ? 'ovs' : 'unbound',
    'binding:vif_details': {},
    'binding:profile': {},
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    description: p.description,
    tags: [],
    created_at: neutronTime(p.createdAt),
    updated_at: neutronTime(p.createdAt),
    revision_number: 1,
  };
}

/** Query parameters that are not attribute filters in Neutron's list calls. */
const NON_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse']);

/**
 * Neutron's list filtering: every query parameter other than fields/limit/marker/sort_* is an
 * attribute filter (several values of one attribute match any of them; booleans as True/true; a
 * list attribute matches when it holds the value; a list of objects such as fixed_ips by
 * `key=value` or `key_substr=value`).
 */
export function filterViews(items: Record<string, unknown>[], query: Record<string, string | string[] | undefined>): Record<string, unknown>[] {
  const filters = Object.entries(query).filter(([k, v]) => !NON_FILTERS.has(k) && v !== undefined) as [string, string | string[]][];
  const matches = (value: unknown, wanted: string) => {
    if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) return value.some((v) => entryMatches(v as Record<string, unknown>, wanted));
    if (Array.isArray(value)) return value.map(String).includes(wanted);
    if (typeof value === 'boolean') return String(value) === wanted.toLowerCase();
    return String(value ?? '') === wanted;
  };
  return items.filter((it) => filters.every(([k, v]) => (Array.isArray(v) ? v : [v]).some((w) => matches(it[k], w))));
}

/**
 * A filter on a list of objects, as Neutron's `fixed_ips=ip_address=10.0.0.5`: `key=value` matches
 * an entry whose key holds exactly value; `key_substr=value` one whose key contains it.
 */
function entryMatches(entry: Record<string, unknown>, wanted: string): boolean {
  const eq = wanted.indexOf('=');
  if (eq < 0) return false;
  const key = wanted.slice(0, eq);
  const value = wanted.slice(eq + 1);
  if (key.endsWith('_substr')) return String(entry[key.slice(0, -'_substr'.length)] ?? '').includes(value);
  return String(entry[key] ?? '') === value;
}

/** Neutron's `fields`: keep only the named attributes (repeated or comma-separated); none named keeps all. */
export function projectFields(item: Record<string, unknown>, fields: string | string[] | undefined): Record<string, unknown> {
  const names = fields === undefined ? [] : (Array.isArray(fields) ? fields : [fields]).flatMap((f) => f.split(',')).filter(Boolean);
  if (names.length === 0) return item;
  return Object.fromEntries(names.filter((f) => f in item).map((f) => [f, item[f]]));
}

/**
 * Neutron's sorting: `sort_key` and `sort_dir` (asc, desc) repeated in pairs, the first key most
 * significant (a missing direction is asc); without sort_key the order is kept.
 * @throws HttpError 400 for a sort_dir other than asc/desc, or a sort_key the resource does not have
 */
export function sortViews(items: Record<string, unknown>[], query: Record<string, string | string[] | undefined>): Record<string, unknown>[] {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const keysAsked = list(query.sort_key);
  const dirs = list(query.sort_dir);
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw invalidField('sort_dir', `'${d}' is not asc or desc.`);
  if (keysAsked.length === 0) return items;
  if (items.length > 0) for (const k of keysAsked) if (!(k in items[0]!)) throw invalidField('sort_key', `'${k}' is not an attribute of this resource.`);
  const compare = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null || a === undefined) return -1;
    if (b === null || b === undefined) return 1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a) < String(b) ? -1 : 1;
  };
  return [...items].sort((x, y) => {
    for (const [i, k] of keysAsked.entries()) {
      const c = compare(x[k], y[k]);
      if (c !== 0) return dirs[i] === 'desc' ? -c : c;
    }
    return 0;
  });
}
