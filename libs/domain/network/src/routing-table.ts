import { InvalidArgumentError } from '@minicloud/domain-errors';
import { cidrContains, parseCidr } from './cidr';
import { ipToInt } from './ipv4';

/** A router's static route (Neutron's extraroute): packets for `destination` (IPv4 CIDR) go to `nexthop` (IPv4 address). */
export interface StaticRoute {
  readonly destination: string;
  readonly nexthop: string;
}

/** Most static routes a router holds: Neutron's `max_routes` option default (neutron/conf/extensions/extraroute.py). */
export const MAX_ROUTES = 30;

/**
 * Checks the form of static routes and collapses duplicates (first occurrence kept, order kept):
 * destination a CIDR without host bits, nexthop a dotted-quad address. IPv4 only, as every subnet here.
 * @throws InvalidArgumentError('routes') naming the bad route
 */
export function normaliseRoutes(routes: readonly StaticRoute[]): StaticRoute[] {
  const out: StaticRoute[] = [];
  const seen = new Set<string>();
  for (const r of routes) {
    const destination = parseCidr(r.destination ?? '', 'routes').text;
    ipToInt(r.nexthop ?? '', 'routes');
    const key = `${destination} ${r.nexthop}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ destination, nexthop: r.nexthop });
  }
  return out;
}

/** What of a router a route's nexthop is checked against: the CIDRs of the subnets it has ports on, and the IPs of those ports. */
export interface ConnectedNetworks {
  readonly cidrs: readonly string[];
  readonly ownIps: readonly string[];
}

/**
 * Neutron's checks of a router's routes (extraroute_db's route validation): at most `maxRoutes`; each
 * nexthop lies in a subnet the router has a port on ("not connected with router" otherwise) and is not
 * one of the router's own addresses.
 * @param routes already normalised ({@link normaliseRoutes})
 * @throws InvalidArgumentError('routes')
 */
export function validateRoutes(routes: readonly StaticRoute[], connected: ConnectedNetworks, maxRoutes = MAX_ROUTES): void {
  if (routes.length > maxRoutes) throw new InvalidArgumentError('routes', `${routes.length} routes, more than the maximum of ${maxRoutes} (routes exhausted)`);
  const cidrs = connected.cidrs.map((c) => parseCidr(c));
  for (const r of routes) {
    const hop = ipToInt(r.nexthop, 'routes');
    if (!cidrs.some((c) => cidrContains(c, hop))) throw new InvalidArgumentError('routes', `invalid route ${r.destination} via ${r.nexthop}: the nexthop is not connected with router`);
    if (connected.ownIps.includes(r.nexthop)) throw new InvalidArgumentError('routes', `invalid route ${r.destination} via ${r.nexthop}: the nexthop is used by router`);
  }
}

/** The routes whose nexthop lies in `cidr` (those that keep an interface on that subnet in use). */
export function routesVia(routes: readonly StaticRoute[], cidr: string): StaticRoute[] {
  const c = parseCidr(cidr);
  return routes.filter((r) => cidrContains(c, ipToInt(r.nexthop)));
}

/**
 * Where a route comes from, which also breaks ties between equal prefixes: a connected subnet wins
 * over a static route, a static route over the gateway's default route (the kernel's main table holds
 * the connected route first; Neutron adds extra routes next to it).
 */
export type RouteOrigin = 'connected' | 'static' | 'default';

/** One row of a router's routing table; `target` is what the caller forwards to. */
export interface RouteEntry<T> {
  readonly destination: string;
  readonly origin: RouteOrigin;
  readonly target: T;
}

const ORIGIN_RANK: Record<RouteOrigin, number> = { connected: 0, static: 1, default: 2 };

/**
 * Longest-prefix match of `dstIp` in `table`; equal prefixes go by {@link RouteOrigin}, then table order.
 * @returns the chosen entry, or undefined when no destination contains the address
 * @throws InvalidArgumentError when an address or CIDR is malformed
 */
export function lookupRoute<T>(table: readonly RouteEntry<T>[], dstIp: string): RouteEntry<T> | undefined {
  const ip = ipToInt(dstIp);
  let best: { entry: RouteEntry<T>; prefix: number } | undefined;
  for (const entry of table) {
    const c = parseCidr(entry.destination);
    if (!cidrContains(c, ip)) continue;
    if (!best || c.prefixLength > best.prefix || (c.prefixLength === best.prefix && ORIGIN_RANK[entry.origin] < ORIGIN_RANK[best.entry.origin])) best = { entry, prefix: c.prefixLength };
  }
  return best?.entry;
}
