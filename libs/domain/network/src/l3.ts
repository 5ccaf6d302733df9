import { cidrContains, parseCidr } from './cidr';
import { ipToInt } from './ipv4';
import { lookupRoute, type RouteEntry, type StaticRoute } from './routing-table';

/** A router's leg on a tenant subnet (its port holds the subnet's gateway IP). */
export interface RouterInterfaceView {
  readonly subnetId: string;
  readonly cidr: string;
  readonly gatewayIp: string;
  readonly networkId: string;
  readonly segmentationId: number;
  readonly macAddress: string;
}

/**
 * A router as the distributed L3 agent of a host holds it. gateway: its leg on the external (flat)
 * network; routes: its static routes (absent from a sender that predates them: none).
 */
export interface RouterView {
  readonly id: string;
  readonly name: string;
  readonly interfaces: readonly RouterInterfaceView[];
  readonly routes?: readonly StaticRoute[];
  readonly gateway: { readonly networkId: string; readonly externalIp: string; readonly cidr: string; readonly enableSnat: boolean } | null;
}

/** A floating IP associated with a port: 1:1 NAT floatingIp <-> fixedIp, served by `routerId`. */
export interface FloatingIpView {
  readonly floatingIp: string;
  readonly fixedIp: string;
  readonly portId: string;
  readonly routerId: string;
  readonly networkId: string;
  readonly segmentationId: number;
}

/** What a trace needs of the L3 world: the source port's subnet CIDR, the routers and the associated floating IPs. */
export interface L3Context {
  /** CIDR of the source port's subnet ('' when the source is outside). */
  readonly sourceSubnetCidr: string;
  readonly routers: readonly RouterView[];
  readonly floatingIps: readonly FloatingIpView[];
}

/** Where an off-link packet goes after its first router. */
export type RouteDecision =
  | { readonly kind: 'east_west'; readonly router: RouterView; readonly iface: RouterInterfaceView }
  | { readonly kind: 'static_route'; readonly router: RouterView; readonly route: StaticRoute; readonly iface: RouterInterfaceView }
  | { readonly kind: 'floating_ip'; readonly router: RouterView; readonly fip: FloatingIpView }
  | { readonly kind: 'external'; readonly router: RouterView; readonly nat: { readonly type: 'snat' | 'floating_ip'; readonly newSrcIp: string } }
  | { readonly kind: 'drop'; readonly reason: string; readonly router?: RouterView };

/** True when `ip` lies in `cidr` (both texts). */
export function inCidr(ip: string, cidr: string): boolean {
  return cidr !== '' && cidrContains(parseCidr(cidr), ipToInt(ip));
}

/** What a row of a router's table forwards to: out of an interface, to a static route's nexthop, or out of the gateway. */
type Hop = { readonly kind: 'iface'; readonly iface: RouterInterfaceView } | { readonly kind: 'route'; readonly route: StaticRoute } | { readonly kind: 'gateway' };

/**
 * The router's routing table: its interfaces' subnets and its gateway's external subnet (connected),
 * its static routes, and a default route through the gateway when it has one.
 */
function routingTable(router: RouterView): RouteEntry<Hop>[] {
  const table: RouteEntry<Hop>[] = router.interfaces.map((iface) => ({ destination: iface.cidr, origin: 'connected', target: { kind: 'iface', iface } }));
  if (router.gateway?.cidr) table.push({ destination: router.gateway.cidr, origin: 'connected', target: { kind: 'gateway' } });
  for (const route of router.routes ?? []) table.push({ destination: route.destination, origin: 'static', target: { kind: 'route', route } });
  if (router.gateway) table.push({ destination: '0.0.0.0/0', origin: 'default', target: { kind: 'gateway' } });
  return table;
}

/**
 * Routing of an off-link packet by the router on the source's subnet (Neutron: the subnet's
 * gateway port belongs to it): a floating IP is DNATed first (the router's PREROUTING), then the
 * longest prefix of the router's table ({@link routingTable}, connected winning a tie) decides: a
 * subnet of the same router (east-west), a static route (to its nexthop, on the interface whose
 * subnet holds it; a nexthop on the external subnet leaves by the gateway), or the external gateway
 * with 1:1 NAT when the source has a floating IP or else SNAT to the router's external IP (when
 * enable_snat).
 */
export function routeOffLink(ctx: L3Context, srcIp: string, dstIp: string): RouteDecision {
  const router = ctx.routers.find((r) => r.interfaces.some((i) => inCidr(srcIp, i.cidr)));
  if (!router) return { kind: 'drop', reason: `${dstIp} is off-link and no router has an interface on the source subnet ${ctx.sourceSubnetCidr}` };
  const fip = ctx.floatingIps.find((f) => f.floatingIp === dstIp);
  if (fip) return { kind: 'floating_ip', router, fip };
  const hop = lookupRoute(routingTable(router), dstIp)?.target;
  if (hop?.kind === 'iface') return { kind: 'east_west', router, iface: hop.iface };
  if (hop?.kind === 'route') {
    const iface = router.interfaces.find((i) => inCidr(hop.route.nexthop, i.cidr));
    if (iface) return { kind: 'static_route', router, route: hop.route, iface };
    if (!router.gateway || !inCidr(hop.route.nexthop, router.gateway.cidr)) return { kind: 'drop', router, reason: `router ${router.name} (${router.id}) has no interface on the subnet of nexthop ${hop.route.nexthop} (route ${hop.route.destination})` };
  }
  if (!router.gateway) return { kind: 'drop', router, reason: `router ${router.name} (${router.id}) has no route to ${dstIp}: no external gateway` };
  const own = ctx.floatingIps.find((f) => f.fixedIp === srcIp && f.routerId === router.id);
  if (own) return { kind: 'external', router, nat: { type: 'floating_ip', newSrcIp: own.floatingIp } };
  if (!router.gateway.enableSnat) return { kind: 'drop', router, reason: `router ${router.name} (${router.id}) has SNAT disabled and ${srcIp} has no floating IP` };
  return { kind: 'external', router, nat: { type: 'snat', newSrcIp: router.gateway.externalIp } };
}
