import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * IP protocol names a security group rule may use and their numbers (IANA "Assigned Internet
 * Protocol Numbers"; the names are neutron-lib's IP_PROTOCOL_MAP, with its `icmpv6` alias of ipv6-icmp).
 */
export const IP_PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  tcp: 6,
  egp: 8,
  udp: 17,
  dccp: 33,
  'ipv6-encap': 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  ospf: 89,
  pgm: 113,
  vrrp: 112,
  sctp: 132,
  udplite: 136,
};

/** Protocols whose rules may carry a destination port range (neutron-lib's SG_PORT_PROTO_NAMES). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
/** ICMP and ICMPv6: port_range_min/max are the ICMP type and code. */
const ICMP_PROTOCOLS = new Set([1, 58]);

/**
 * The IP protocol number of a rule's or packet's protocol: a known name (any case) or a decimal
 * number 0..255.
 * @throws InvalidArgumentError('protocol') for anything else
 */
export function ipProtocolNumber(protocol: string): number {
  const byName = IP_PROTOCOL_NUMBERS[protocol.toLowerCase()];
  if (byName !== undefined) return byName;
  if (/^\d{1,3}$/.test(protocol) && Number(protocol) <= 255) return Number(protocol);
  throw new InvalidArgumentError('protocol', `"${protocol}" is not a protocol name (${Object.keys(IP_PROTOCOL_NUMBERS).join(', ')}) or a number 0..255`);
}

/** True when rules of this protocol number take a destination port range. */
export function takesPortRange(protocolNumber: number): boolean {
  return PORT_PROTOCOLS.has(protocolNumber);
}

/** True for ICMP and ICMPv6, whose rules take an ICMP type and code. */
export function isIcmp(protocolNumber: number): boolean {
  return ICMP_PROTOCOLS.has(protocolNumber);
}
