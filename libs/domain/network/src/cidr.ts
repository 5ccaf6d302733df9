import { InvalidArgumentError } from '@minicloud/domain-errors';
import { intToIp, ipToInt } from './ipv4';

/**
 * A parsed IPv4 CIDR block. Addresses are unsigned 32-bit integers.
 * `size` = 2^(32 - prefixLength) addresses, network and broadcast included.
 */
export interface Ipv4Cidr {
  /** Canonical text, e.g. "10.0.0.0/24". */
  readonly text: string;
  readonly prefixLength: number;
  /** First address (the network address). */
  readonly networkInt: number;
  /** Last address (the broadcast address). */
  readonly broadcastInt: number;
  readonly size: number;
}

/** Netmask of a prefix length as an unsigned 32-bit integer (/24 -> 0xffffff00). */
export function prefixToMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * Parses and validates an IPv4 CIDR ("10.0.0.0/24"). IPv6 is not supported.
 * @param text the CIDR
 * @param field request field named in the error, default "cidr"
 * @throws InvalidArgumentError(field) when the "/prefix" part is missing or not an integer, the prefix
 *   is outside 0..32, an octet is bad, or host bits are set ("10.0.0.5/24": the message suggests
 *   "10.0.0.0/24")
 */
export function parseCidr(text: string, field = 'cidr'): Ipv4Cidr {
  const parts = text.split('/');
  if (parts.length !== 2) {
    throw new InvalidArgumentError(field, `"${text}" is not in address/prefix form (e.g. 10.0.0.0/24)`);
  }
  const [addressText, prefixText] = parts as [string, string];
  if (!/^[0-9]{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    throw new InvalidArgumentError(field, `prefix length "${prefixText}" in "${text}" is out of range 0..32`);
  }
  const prefixLength = Number(prefixText);
  const address = ipToInt(addressText, field);
  const networkInt = (address & prefixToMask(prefixLength)) >>> 0;
  if (networkInt !== address) {
    throw new InvalidArgumentError(
      field,
      `host bits set in "${text}" (did you mean ${intToIp(networkInt)}/${prefixLength}?)`,
    );
  }
  const size = 2 ** (32 - prefixLength);
  return { text: `${addressText}/${prefixLength}`, prefixLength, networkInt, broadcastInt: networkInt + size - 1, size };
}

/** True when the address integer `ipInt` lies in `cidr` (network and broadcast included). */
export function cidrContains(cidr: Ipv4Cidr, ipInt: number): boolean {
  return ipInt >= cidr.networkInt && ipInt <= cidr.broadcastInt;
}

/** True when two CIDR blocks share at least one address (one contains the other, or they are equal). */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.networkInt <= b.broadcastInt && b.networkInt <= a.broadcastInt;
}

/**
 * Checks that a new subnet CIDR overlaps none of the CIDRs already on the same network (Neutron
 * rejects overlapping subnets on one network).
 * @param candidate the new subnet's CIDR text
 * @param existing CIDR texts of the network's other subnets
 * @throws InvalidArgumentError('cidr') naming the first overlapping subnet, or when a CIDR is invalid
 */
export function assertNoCidrOverlap(candidate: string, existing: readonly string[]): void {
  const parsed = parseCidr(candidate);
  for (const other of existing) {
    if (cidrsOverlap(parsed, parseCidr(other))) {
      throw new InvalidArgumentError('cidr', `${parsed.text} overlaps with another subnet (${other}) on the same network`);
    }
  }
}
