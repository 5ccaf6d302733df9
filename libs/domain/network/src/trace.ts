import type { FdbEntry } from './fdb';
import { checkFirewall, type PortFirewall } from './firewall';
import { inCidr, routeOffLink, type L3Context } from './l3';
import { encapsulate, type InnerFrame, type VxlanFrame } from './vxlan-encap';

/** Stages a hop can have (the TraceHop.stage values of the API). */
export type TraceStage = 'vnic' | 'sg_egress' | 'vswitch' | 'vtep_encap' | 'underlay' | 'vtep_decap' | 'sg_ingress' | 'router' | 'snat' | 'dnat' | 'drop';

/** One step of a simulated packet, on the host that took it. */
export interface TraceHop {
  readonly stage: TraceStage;
  readonly hostId: string;
  readonly description: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** One host's virtual switch as the tracer reads it: its VTEP, its vNICs (local ports) and its l2pop FDB. */
export interface SwitchView {
  readonly hostId: string;
  readonly tunnelIp: string;
  /** Local ports: entries towards the own VTEP (portId set). */
  readonly vnics: readonly FdbEntry[];
  readonly fdb: readonly FdbEntry[];
}

/** A probe: tcp/udp to dstPort, or icmp echo. */
export interface Probe {
  readonly dstIp: string;
  readonly protocol: string;
  readonly dstPort: number;
  readonly sizeBytes: number;
}

/** Port id -> its firewall. */
export type Firewalls = Readonly<Record<string, PortFirewall>>;

/** Where a trace step ended: delivered, dropped (why), tunnelled to another VTEP (continue there), or left the cloud. */
export type TraceOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'dropped'; readonly reason: string }
  | { readonly kind: 'tunnel'; readonly frame: VxlanFrame }
  | { readonly kind: 'external' };

export interface TraceStep {
  readonly hops: TraceHop[];
  readonly outcome: TraceOutcome;
}

const hop = (stage: TraceStage, hostId: string, description: string, fields: Record<string, string | number> = {}): TraceHop => ({
  stage,
  hostId,
  description,
  fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
});

function drop(hops: TraceHop[], hostId: string, reason: string, fields: Record<string, string | number> = {}): TraceStep {
  hops.push(hop('drop', hostId, reason, fields));
  return { hops, outcome: { kind: 'dropped', reason } };
}

/**
 * The first host's part of a trace: source vNIC -> security-group egress -> (router, NAT) -> local
 * switch, ending in local delivery, a drop, a VXLAN frame for a remote VTEP, or the external network.
 * Routing is distributed (Neutron DVR): the source host's router does routing and NAT.
 */
export function traceFromVnic(sw: SwitchView, srcPortId: string, probe: Probe, l3: L3Context, firewalls: Firewalls): TraceStep {
  const hops: TraceHop[] = [];
  const vnic = sw.vnics.find((v) => v.portId === srcPortId);
  if (!vnic || !vnic.portId) return drop(hops, sw.hostId, `port ${srcPortId} is not plugged into the switch of host ${sw.hostId}`);
  hops.push(hop('vnic', sw.hostId, `leaves port ${vnic.portId} (${vnic.macAddress}, ${vnic.ipAddress}) on VNI ${vnic.segmentationId}`, { port_id: vnic.portId, mac: vnic.macAddress, ip: vnic.ipAddress, vni: vnic.segmentationId, network_id: vnic.networkId }));
  const egress = checkFirewall(firewalls[vnic.portId], 'egress', { protocol: probe.protocol, dstPort: probe.dstPort, remoteIp: probe.dstIp });
  hops.push(hop('sg_egress', sw.hostId, egress.description, egress.ruleId ? { rule_id: egress.ruleId } : {}));
  if (!egress.allowed) return drop(hops, sw.hostId, `security group egress: ${egress.description}`);
  const inner = { srcMac: vnic.macAddress, srcIp: vnic.ipAddress, dstIp: probe.dstIp, protocol: probe.protocol, dstPort: probe.dstPort, sizeBytes: probe.sizeBytes };
  if (inCidr(probe.dstIp, l3.sourceSubnetCidr)) return forwardL2(sw, hops, vnic.segmentationId, inner, firewalls);
  const route = routeOffLink(l3, vnic.ipAddress, probe.dstIp);
  if (route.router) hops.push(hop('router', sw.hostId, `router ${route.router.name} (${route.router.id}) routes ${vnic.ipAddress} -> ${probe.dstIp}`, { router_id: route.router.id }));
  switch (route.kind) {
    case 'drop':
      return drop(hops, sw.hostId, route.reason);
    case 'east_west':
      hops.push(hop('router', sw.hostId, `out of interface ${route.iface.gatewayIp} on subnet ${route.iface.cidr} (VNI ${route.iface.segmentationId})`, { subnet_id: route.iface.subnetId, vni: route.iface.segmentationId }));
      return forwardL2(sw, hops, route.iface.segmentationId, { ...inner, srcMac: route.iface.macAddress }, firewalls);
    case 'static_route':
      hops.push(
        hop('router', sw.hostId, `static route ${route.route.destination} via ${route.route.nexthop}: out of interface ${route.iface.gatewayIp} on subnet ${route.iface.cidr} (VNI ${route.iface.segmentationId}) to the nexthop`, {
          destination: route.route.destination,
          nexthop: route.route.nexthop,
          subnet_id: route.iface.subnetId,
          vni: route.iface.segmentationId,
        }),
      );
      return forwardL2(sw, hops, route.iface.segmentationId, { ...inner, srcMac: route.iface.macAddress }, firewalls, route.route.nexthop);
    case 'floating_ip':
      hops.push(hop('dnat', sw.hostId, `floating IP ${route.fip.floatingIp} -> fixed IP ${route.fip.fixedIp}`, { floating_ip: route.fip.floatingIp, fixed_ip: route.fip.fixedIp }));
      return forwardL2(sw, hops, route.fip.segmentationId, { ...inner, dstIp: route.fip.fixedIp }, firewalls);
    case 'external': {
      const g = route.router.gateway!;
      const what = route.nat.type === 'snat' ? 'SNAT to the router gateway IP' : '1:1 NAT to the port\'s floating IP';
      hops.push(hop('snat', sw.hostId, `${what}: source ${vnic.ipAddress} -> ${route.nat.newSrcIp}`, { original_src_ip: vnic.ipAddress, translated_src_ip: route.nat.newSrcIp, nat: route.nat.type }));
      const onLink = inCidr(probe.dstIp, g.cidr) ? `on-link on ${g.cidr}` : `via the upstream gateway of ${g.cidr}`;
      hops.push(hop('underlay', sw.hostId, `leaves on external network ${g.networkId} (flat, no VXLAN) to ${probe.dstIp} ${onLink}`, { network_id: g.networkId, src_ip: route.nat.newSrcIp, dst_ip: probe.dstIp }));
      return { hops, outcome: { kind: 'external' } };
    }
  }
}

/**
 * A packet from outside the cloud to a floating IP, on the host of the port it maps to (DVR: the
 * floating IP is served where the port lives): external network -> DNAT -> router -> switch.
 */
export function traceFromExternal(sw: SwitchView, srcIp: string, probe: Probe, l3: L3Context, firewalls: Firewalls): TraceStep {
  const hops: TraceHop[] = [];
  const fip = l3.floatingIps.find((f) => f.floatingIp === probe.dstIp);
  if (!fip) return drop(hops, sw.hostId, `${probe.dstIp} is not an associated floating IP`);
  const router = l3.routers.find((r) => r.id === fip.routerId);
  hops.push(hop('underlay', sw.hostId, `arrives from ${srcIp} on external network ${router?.gateway?.networkId ?? '?'} at floating IP ${fip.floatingIp}`, { src_ip: srcIp, dst_ip: fip.floatingIp }));
  hops.push(hop('dnat', sw.hostId, `1:1 NAT: destination ${fip.floatingIp} -> fixed IP ${fip.fixedIp}`, { floating_ip: fip.floatingIp, fixed_ip: fip.fixedIp, router_id: fip.routerId }));
  hops.push(hop('router', sw.hostId, `router ${router?.name ?? ''} (${fip.routerId}) routes into VNI ${fip.segmentationId}`, { router_id: fip.routerId, vni: fip.segmentationId }));
  const iface = router?.interfaces.find((i) => i.segmentationId === fip.segmentationId && inCidr(fip.fixedIp, i.cidr));
  const inner = { srcMac: iface?.macAddress ?? '00:00:00:00:00:00', srcIp, dstIp: fip.fixedIp, protocol: probe.protocol, dstPort: probe.dstPort, sizeBytes: probe.sizeBytes };
  return forwardL2(sw, hops, fip.segmentationId, inner, firewalls);
}

/**
 * The local switch on one VNI: a local vNIC with the destination IP gets the frame directly; else
 * the ARP responder (from l2pop) gives the MAC and the FDB the VTEP, and the frame is encapsulated.
 * No entry on this VNI means no port with that address on this network: dropped (frames never
 * leave their VNI). `l2DstIp` is the address whose MAC the frame goes to: the packet's destination,
 * or a static route's nexthop (the packet keeps its destination IP).
 */
function forwardL2(sw: SwitchView, hops: TraceHop[], vni: number, inner: Omit<InnerFrame, 'dstMac'>, firewalls: Firewalls, l2DstIp = inner.dstIp): TraceStep {
  const local = sw.vnics.find((v) => v.segmentationId === vni && v.ipAddress === l2DstIp);
  if (local) {
    hops.push(hop('vswitch', sw.hostId, `${l2DstIp} is local port ${local.portId} (${local.macAddress}) on VNI ${vni}: switched locally, no tunnel`, { vni, dst_mac: local.macAddress, port_id: local.portId! }));
    return deliverLocal(sw, hops, local, { ...inner, dstMac: local.macAddress }, firewalls);
  }
  const arp = sw.fdb.find((e) => e.segmentationId === vni && e.ipAddress === l2DstIp);
  if (!arp) {
    return drop(hops, sw.hostId, `no port with ${l2DstIp} on VNI ${vni}: the ARP responder and the FDB of host ${sw.hostId} have no entry for it (frames never leave their VNI)`, { vni, dst_ip: l2DstIp });
  }
  const frame = encapsulate({ ...inner, dstMac: arp.macAddress }, sw.tunnelIp, arp.tunnelIp, vni);
  hops.push(hop('vswitch', sw.hostId, `ARP responder: ${l2DstIp} is at ${arp.macAddress}; FDB: ${arp.macAddress} on VNI ${vni} is behind VTEP ${arp.tunnelIp}`, { vni, dst_mac: arp.macAddress, remote_vtep: arp.tunnelIp }));
  hops.push(
    hop('vtep_encap', sw.hostId, `VXLAN encapsulation: outer ${frame.outerSrcIp} -> ${frame.outerDstIp}, UDP ${frame.udpSrcPort} -> ${frame.udpDstPort}, VNI ${vni}`, {
      outer_src_ip: frame.outerSrcIp,
      outer_dst_ip: frame.outerDstIp,
      udp_src_port: frame.udpSrcPort,
      udp_dst_port: frame.udpDstPort,
      vni,
      inner_size_bytes: inner.sizeBytes,
      outer_size_bytes: frame.outerSizeBytes,
    }),
  );
  return { hops, outcome: { kind: 'tunnel', frame } };
}

/**
 * The destination VTEP's part: decapsulate, find the vNIC with the inner destination MAC on the
 * frame's VNI (a port on another VNI never sees it), security-group ingress, deliver.
 */
export function receiveAtVtep(sw: SwitchView, frame: VxlanFrame, firewalls: Firewalls): TraceStep {
  const hops: TraceHop[] = [];
  if (frame.outerDstIp !== sw.tunnelIp) return drop(hops, sw.hostId, `outer destination ${frame.outerDstIp} is not this VTEP (${sw.tunnelIp})`);
  hops.push(hop('vtep_decap', sw.hostId, `VTEP ${sw.tunnelIp} decapsulates VNI ${frame.vni} from ${frame.outerSrcIp}`, { vni: frame.vni, outer_src_ip: frame.outerSrcIp, outer_dst_ip: frame.outerDstIp }));
  const vnic = sw.vnics.find((v) => v.segmentationId === frame.vni && v.macAddress === frame.inner.dstMac);
  if (!vnic) {
    const elsewhere = sw.vnics.find((v) => v.macAddress === frame.inner.dstMac);
    const why = elsewhere ? `port ${elsewhere.portId} has ${frame.inner.dstMac} but is on VNI ${elsewhere.segmentationId}, not ${frame.vni}: frames never cross VNIs` : `no port with ${frame.inner.dstMac} on VNI ${frame.vni} on host ${sw.hostId} (stale FDB?)`;
    return drop(hops, sw.hostId, why, { vni: frame.vni });
  }
  hops.push(hop('vswitch', sw.hostId, `VNI ${frame.vni}, ${frame.inner.dstMac} -> port ${vnic.portId}`, { vni: frame.vni, port_id: vnic.portId! }));
  return deliverLocal(sw, hops, vnic, frame.inner, firewalls);
}

function deliverLocal(sw: SwitchView, hops: TraceHop[], vnic: FdbEntry, inner: InnerFrame, firewalls: Firewalls): TraceStep {
  const ingress = checkFirewall(firewalls[vnic.portId ?? ''], 'ingress', { protocol: inner.protocol, dstPort: inner.dstPort, remoteIp: inner.srcIp });
  hops.push(hop('sg_ingress', sw.hostId, ingress.description, ingress.ruleId ? { rule_id: ingress.ruleId } : {}));
  if (!ingress.allowed) return drop(hops, sw.hostId, `security group ingress: ${ingress.description}`);
  hops.push(hop('vnic', sw.hostId, `delivered to port ${vnic.portId} (${vnic.macAddress}, ${vnic.ipAddress})`, { port_id: vnic.portId!, mac: vnic.macAddress, ip: vnic.ipAddress }));
  return { hops, outcome: { kind: 'delivered' } };
}
