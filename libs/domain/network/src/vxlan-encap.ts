import { VXLAN_OVERHEAD_BYTES, VXLAN_UDP_PORT } from './vxlan';

/** An inner (tenant) IPv4 frame as the simulated switch sees it. Sizes are whole Ethernet frames in bytes. */
export interface InnerFrame {
  readonly srcMac: string;
  readonly dstMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  /** tcp, udp, icmp. */
  readonly protocol: string;
  /** Destination port (tcp/udp); 0 for icmp. */
  readonly dstPort: number;
  readonly sizeBytes: number;
}

/** A VXLAN-encapsulated frame on the underlay (RFC 7348): outer IPv4/UDP + 8-byte VXLAN header with the VNI. */
export interface VxlanFrame {
  readonly outerSrcIp: string;
  readonly outerDstIp: string;
  /** Flow-hash source port in 49152..65535 (RFC 7348 section 5 recommends one for ECMP entropy). */
  readonly udpSrcPort: number;
  /** 4789 (IANA). */
  readonly udpDstPort: number;
  readonly vni: number;
  readonly inner: InnerFrame;
  /** Inner size + 50 bytes of VXLAN overhead. */
  readonly outerSizeBytes: number;
}

/** Size of a minimal TCP SYN frame with options (14 Ethernet + 20 IPv4 + 40 TCP), the tracer's default probe. */
export const DEFAULT_PROBE_SIZE_BYTES = 74;

/**
 * Encapsulates an inner frame towards a remote VTEP.
 * @param src tunnel IP of the local VTEP; @param dst tunnel IP from the FDB entry; @param vni the network's VNI
 */
export function encapsulate(inner: InnerFrame, src: string, dst: string, vni: number): VxlanFrame {
  return {
    outerSrcIp: src,
    outerDstIp: dst,
    udpSrcPort: flowSourcePort(inner),
    udpDstPort: VXLAN_UDP_PORT,
    vni,
    inner,
    outerSizeBytes: inner.sizeBytes + VXLAN_OVERHEAD_BYTES,
  };
}

/** Deterministic 5-tuple hash (FNV-1a 32-bit) mapped into the dynamic port range 49152..65535. */
export function flowSourcePort(f: Pick<InnerFrame, 'srcIp' | 'dstIp' | 'protocol' | 'dstPort'>): number {
  let h = 0x811c9dc5;
  for (const ch of `${f.srcIp}|${f.dstIp}|${f.protocol}|${f.dstPort}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 49152 + (h % 16384);
}
