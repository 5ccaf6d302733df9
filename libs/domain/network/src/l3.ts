import { cidrContains, parseCidr } from './cidr';
import { ipToInt } from './ipv4';

/** A router's leg on a tenant subnet (its port holds the subnet's gateway IP). */
export interface RouterInterfaceView {
  readonly subnetId: string;
  readonly cidr: string;
  readonly gatewayIp: string;
  readonly networkId: string;
  readonly segmentationId: number;
  readonly macAddress: string;
}

/** A router as the distributed L3 agent of a host holds it. gateway: its leg on the external (flat) network. */
export interface RouterView {
  readonly id: string;
  readonly name: string;
  readonly interfaces: readonly RouterInterfaceView[];
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
  | { readonly kind: 'floating_ip'; readonly router: RouterView; readonly fip: FloatingIpView }
  | { readonly kind: 'external'; readonly router: RouterView; readonly nat: { readonly type: 'snat' | 'floating_ip'; readonly newSrcIp: string } }
  | { readonly kind: 'drop'; readonly reason: string; readonly router?: RouterView };

/** True when `ip` lies in `cidr` (both texts). */
export function inCidr(ip: string, cidr: string): boolean {
  return cidr !== '' && cidrContains(parseCidr(cidr), ipToInt(ip));
}

/**
 * Routing of an off-link packet by the router on the source's subnet (Neutron: the subnet's
 * gateway port belongs to it), in this order: a subnet of the same router (east-west), a floating
 * IP (DNAT), then the external gateway with 1:1 NAT when the source has a floating IP or else SNAT
 * to the router's external IP (when enable_snat).
 */
export function routeOffLink(ctx: L3Context, srcIp: string, dstIp: string): RouteDecision {
  const router = ctx.routers.find((r) => r.interfaces.some((i) => inCidr(srcIp, i.cidr)));
  if (!router) return { kind: 'drop', reason: `${dstIp} is off-link and no router has an interface on the source subnet ${ctx.sourceSubnetCidr}` };
  const iface = router.interfaces.find((i) => inCidr(dstIp, i.cidr));
  if (iface) return { kind: 'east_west', router, iface };
  const fip = ctx.floatingIps.find((f) => f.floatingIp === dstIp);
  if (fip) return { kind: 'floating_ip', router, fip };
  if (!router.gateway) return { kind: 'drop', router, reason: `router ${router.name} (${router.id}) has no route to ${dstIp}: no external gateway` };
  const own = ctx.floatingIps.find((f) => f.fixedIp === srcIp && f.routerId === router.id);
  if (own) return { kind: 'external', router, nat: { type: 'floating_ip', newSrcIp: own.floatingIp } };
  if (!router.gateway.enableSnat) return { kind: 'drop', router, reason: `router ${router.name} (${router.id}) has SNAT disabled and ${srcIp} has no floating IP` };
  return { kind: 'external', router, nat: { type: 'snat', newSrcIp: router.gateway.externalIp } };
}
