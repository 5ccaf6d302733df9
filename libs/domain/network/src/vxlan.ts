import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * Bytes VXLAN adds in front of a tenant frame on an IPv4 underlay: outer Ethernet 14 + outer IPv4 20
 * + UDP 8 + VXLAN header 8 = 50 (RFC 7348 section 5; Neutron subtracts the same 50).
 */
export const VXLAN_OVERHEAD_BYTES = 50;

/** IANA-assigned UDP destination port for VXLAN (RFC 7348 section 5). */
export const VXLAN_UDP_PORT = 4789;

/** Minimum IPv4 MTU every link must carry (RFC 791). */
export const MIN_IPV4_MTU_BYTES = 68;

/**
 * The MTU a tenant network can offer on a VXLAN overlay: underlay MTU minus 50 (1500 -> 1450,
 * 9000 -> 8950).
 * @param underlayMtuBytes the physical network's MTU in bytes
 * @throws InvalidArgumentError('underlay_mtu') when not an integer or when the result would fall
 *   below 68 bytes
 */
export function tenantMtu(underlayMtuBytes: number): number {
  if (!Number.isInteger(underlayMtuBytes) || underlayMtuBytes - VXLAN_OVERHEAD_BYTES < MIN_IPV4_MTU_BYTES) {
    throw new InvalidArgumentError(
      'underlay_mtu',
      `${underlayMtuBytes} must be an integer of at least ${MIN_IPV4_MTU_BYTES + VXLAN_OVERHEAD_BYTES} bytes`,
    );
  }
  return underlayMtuBytes - VXLAN_OVERHEAD_BYTES;
}
