import type { Firewalls, Probe, TraceHop } from './trace';
import type { L3Context } from './l3';
import type { VxlanFrame } from './vxlan-encap';

/**
 * Core-NATS request subject the network service uses to start a trace on a host's overlay module
 * (request/reply, JSON body {@link OverlayTraceRequest}, reply {@link OverlayTraceReply}).
 */
export function overlayTraceSubject(hostId: string): string {
  return `minicloud.overlay.trace.${hostId}`;
}

/** Core-NATS subject of a VTEP: simulated VXLAN frames for `tunnelIp` (request/reply, JSON {@link VtepFrameMessage}). */
export function vtepSubject(tunnelIp: string): string {
  return `minicloud.vtep.${tunnelIp}`;
}

/**
 * A trace the network service hands to the first host: from a local vNIC (`srcPortId`) or from
 * outside (`srcIp`, entering at a floating IP served on this host). `firewalls` carries the rules
 * of the ports that may be involved (the security_group_rules_for_devices answer of Neutron).
 */
export interface OverlayTraceRequest {
  readonly start: { readonly kind: 'vnic'; readonly srcPortId: string } | { readonly kind: 'external'; readonly srcIp: string };
  readonly probe: Probe;
  readonly l3: L3Context;
  readonly firewalls: Firewalls;
}

/** The hops every host took, in order, and the verdict. */
export interface OverlayTraceReply {
  readonly hops: TraceHop[];
  readonly delivered: boolean;
  readonly dropReason: string;
}

/** A frame sent VTEP to VTEP, with the firewalls the receiving switch evaluates (trace sidecar). */
export interface VtepFrameMessage {
  readonly frame: VxlanFrame;
  readonly firewalls: Firewalls;
}
