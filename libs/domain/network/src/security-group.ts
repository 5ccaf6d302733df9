import { InvalidArgumentError } from '@minicloud/domain-errors';
import { cidrContains, parseCidr, prefixToMask } from './cidr';
import { ipProtocolNumber, isIcmp, takesPortRange } from './ip-protocol';
import { intToIp, ipToInt } from './ipv4';
import { formatIpv6Cidr, parseIpv6Cidr } from './ipv6';

/** Traffic direction relative to the port (the VM): ingress = towards the VM. */
export type Direction = 'ingress' | 'egress';
export type Ethertype = 'IPv4' | 'IPv6';
/**
 * The protocol a rule names: a name of IP_PROTOCOL_NUMBERS or a decimal IP protocol number; null in
 * a rule means any protocol.
 */
export type RuleProtocol = string;

/**
 * A security group rule, Neutron semantics. Rules only allow; anything no rule allows is dropped.
 * - tcp/udp/sctp/dccp/udplite: `portRangeMin..portRangeMax` is the destination port range (null = all ports).
 * - icmp/ipv6-icmp: `portRangeMin` is the ICMP type and `portRangeMax` the ICMP code (null = any).
 * - `remoteIpPrefix` (a CIDR of the rule's ethertype) and `remoteGroupId` restrict the other end; at most one is set;
 *   both null = anywhere.
 */
export interface SecurityGroupRule {
  readonly id: string;
  readonly securityGroupId?: string;
  readonly direction: Direction;
  readonly ethertype: Ethertype;
  readonly protocol: RuleProtocol | null;
  readonly portRangeMin: number | null;
  readonly portRangeMax: number | null;
  readonly remoteIpPrefix: string | null;
  readonly remoteGroupId: string | null;
}

/** A simulated packet as seen by the port's firewall. */
export interface Packet {
  readonly direction: Direction;
  readonly ethertype: Ethertype;
  /** IP protocol name, e.g. "tcp", "udp", "icmp", "gre". */
  readonly protocol: string;
  /** The other end: source address for ingress, destination address for egress. */
  readonly remoteIp: string;
  /** Destination port (tcp/udp). */
  readonly dstPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /**
   * True when the packet belongs to a flow already allowed in the other direction (conntrack
   * ESTABLISHED/RELATED). The caller's connection tracker sets it; stateful groups let it through.
   */
  readonly isReply: boolean;
}

/** Security group id -> IPv4 addresses of the ports that are members of it. */
export type GroupMembership = ReadonlyMap<string, ReadonlySet<string>>;

/** Outcome of {@link evaluate}: `matchedRuleId` is the first rule that allowed the packet. */
export interface Verdict {
  readonly allowed: boolean;
  readonly matchedRuleId?: string;
}

/**
 * Decides whether a packet passes a port's rules (the union of the rules of all its groups).
 * A reply of an allowed flow (`packet.isReply`) passes without a rule (stateful groups, the Neutron
 * default); otherwise the first matching rule allows it and nothing matching means drop.
 * @throws InvalidArgumentError('remote_ip_prefix') when a rule carries an unparsable prefix
 */
export function evaluate(packet: Packet, rules: readonly SecurityGroupRule[], groupMembership: GroupMembership): Verdict {
  if (packet.isReply) return { allowed: true };
  const match = rules.find((rule) => ruleMatches(rule, packet, groupMembership));
  return match ? { allowed: true, matchedRuleId: match.id } : { allowed: false };
}

/** True when `rule` allows `packet` (the reply shortcut of {@link evaluate} aside). */
export function ruleMatches(rule: SecurityGroupRule, packet: Packet, groupMembership: GroupMembership): boolean {
  return (
    rule.direction === packet.direction &&
    rule.ethertype === packet.ethertype &&
    protocolMatches(rule, packet) &&
    remoteMatches(rule, packet, groupMembership)
  );
}

function protocolMatches(rule: SecurityGroupRule, packet: Packet): boolean {
  if (rule.protocol === null) return true;
  const proto = ipProtocolNumber(rule.protocol);
  if (proto !== protocolNumberOf(packet.protocol)) return false;
  if (isIcmp(proto)) {
    return (
      (rule.portRangeMin === null || rule.portRangeMin === packet.icmpType) &&
      (rule.portRangeMax === null || rule.portRangeMax === packet.icmpCode)
    );
  }
  if (rule.portRangeMin === null) return true;
  const max = rule.portRangeMax ?? rule.portRangeMin;
  return packet.dstPort !== undefined && packet.dstPort >= rule.portRangeMin && packet.dstPort <= max;
}

/** A packet's protocol as a number; one no rule can name matches no rule of a named protocol. */
function protocolNumberOf(protocol: string): number {
  try {
    return ipProtocolNumber(protocol);
  } catch {
    return -1;
  }
}

function remoteMatches(rule: SecurityGroupRule, packet: Packet, groupMembership: GroupMembership): boolean {
  if (rule.remoteGroupId !== null && !(groupMembership.get(rule.remoteGroupId)?.has(packet.remoteIp) ?? false)) {
    return false;
  }
  if (rule.remoteIpPrefix !== null) {
    // the simulated guests speak IPv4 only: an IPv6 packet is matched by "anywhere" alone
    if (packet.ethertype !== 'IPv4') return rule.remoteIpPrefix === '::/0';
    return cidrContains(parseCidr(rule.remoteIpPrefix, 'remote_ip_prefix'), ipToInt(packet.remoteIp, 'remote_ip'));
  }
  return true;
}

/**
 * The canonical form of a rule's remote_ip_prefix, as Neutron stores it: an address without a length
 * becomes a host prefix (/32, /128) and host bits are cleared ("10.0.0.5/24" -> "10.0.0.0/24").
 * @throws InvalidArgumentError('remote_ip_prefix') when it is no prefix, or of the other IP version
 *   than `ethertype` (Neutron's SecurityGroupRuleParameterConflict)
 */
export function normaliseRemoteIpPrefix(prefix: string, ethertype: Ethertype): string {
  const [addr, len] = prefix.split('/');
  const v6 = (addr ?? '').includes(':');
  if (v6 !== (ethertype === 'IPv6')) {
    throw new InvalidArgumentError('remote_ip_prefix', `"${prefix}" conflicts with ethertype ${ethertype}`);
  }
  if (v6) return formatIpv6Cidr(parseIpv6Cidr(prefix, 'remote_ip_prefix'));
  const length = len ?? '32';
  if (!/^\d{1,2}$/.test(length) || Number(length) > 32) throw new InvalidArgumentError('remote_ip_prefix', `"${prefix}" is not an IPv4 prefix`);
  const network = (ipToInt(addr ?? '', 'remote_ip_prefix') & prefixToMask(Number(length))) >>> 0;
  return `${intToIp(network)}/${length}`;
}

/**
 * The identity of a rule for Neutron's duplicate check (SecurityGroupRuleExists): everything but
 * its id and description, the protocol as its number, a prefix that covers everything (0.0.0.0/0,
 * ::/0) the same as none.
 */
export function ruleIdentity(rule: SecurityGroupRule): string {
  const anyPrefix = rule.remoteIpPrefix === '0.0.0.0/0' || rule.remoteIpPrefix === '::/0';
  return JSON.stringify([
    rule.securityGroupId ?? '',
    rule.direction,
    rule.ethertype,
    rule.protocol === null ? null : ipProtocolNumber(rule.protocol),
    rule.portRangeMin,
    rule.portRangeMax,
    anyPrefix ? null : rule.remoteIpPrefix,
    rule.remoteGroupId,
  ]);
}

/**
 * Validates a rule as Neutron's API does (neutron/db/securitygroups_db.py's checks).
 * @throws InvalidArgumentError naming the field: 'direction', 'ethertype', 'protocol' (neither a
 *   known name nor 0..255), 'port_range_min' / 'port_range_max' (a range on a protocol without
 *   ports; tcp/udp/sctp/dccp/udplite ports outside 1..65535 or min > max; icmp type/code outside
 *   0..255, or a code without a type), 'remote_ip_prefix' (not a prefix of the rule's ethertype),
 *   'remote_group_id' (set together with a prefix)
 */
export function validateSecurityGroupRule(rule: SecurityGroupRule): void {
  if (rule.direction !== 'ingress' && rule.direction !== 'egress') {
    throw new InvalidArgumentError('direction', `"${String(rule.direction)}" is not ingress or egress`);
  }
  if (rule.ethertype !== 'IPv4' && rule.ethertype !== 'IPv6') {
    throw new InvalidArgumentError('ethertype', `"${String(rule.ethertype)}" is not IPv4 or IPv6`);
  }
  if (rule.protocol !== null && ipProtocolNumber(rule.protocol) === IPV6_ICMP && rule.ethertype === 'IPv4') {
    throw new InvalidArgumentError('protocol', `${rule.protocol} conflicts with ethertype IPv4`);
  }
  validatePorts(rule);
  if (rule.remoteIpPrefix !== null && rule.remoteGroupId !== null) {
    throw new InvalidArgumentError('remote_group_id', 'remote_group_id and remote_ip_prefix are mutually exclusive');
  }
  if (rule.remoteIpPrefix !== null) normaliseRemoteIpPrefix(rule.remoteIpPrefix, rule.ethertype);
}

/** ICMPv6's IP protocol number, valid on IPv6 rules only. */
const IPV6_ICMP = 58;

function validatePorts(rule: SecurityGroupRule): void {
  const { portRangeMin: min, portRangeMax: max } = rule;
  if (min === null && max === null) return;
  const proto = rule.protocol === null ? null : ipProtocolNumber(rule.protocol);
  if (proto === null || (!isIcmp(proto) && !takesPortRange(proto))) {
    throw new InvalidArgumentError('port_range_min', `a port range needs protocol tcp, udp, sctp, dccp, udplite, icmp or ipv6-icmp, not ${rule.protocol ?? 'any'}`);
  }
  // neutron's own messages (SecurityGroupInvalidPortValue, SecurityGroupInvalidPortRange,
  // SecurityGroupInvalidIcmpValue, SecurityGroupMissingIcmpType), as its clients show them
  if (isIcmp(proto)) {
    for (const [field, value, what] of [['port_range_min', min, 'type'], ['port_range_max', max, 'code']] as const) {
      if (value !== null && (!Number.isInteger(value) || value < 0 || value > 255)) {
        throw new InvalidArgumentError(field, `Invalid value for ICMP ${what} (${field.replace(/_/g, '-')}): ${value}. It must be 0 to 255.`);
      }
    }
    if (min === null) throw new InvalidArgumentError('port_range_min', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    return;
  }
  for (const [field, value] of [['port_range_min', min], ['port_range_max', max]] as const) {
    if (value !== null && (!Number.isInteger(value) || value < 1 || value > 65535)) throw new InvalidArgumentError(field, `Invalid value for port ${value}`);
  }
  if (min === null || (max !== null && min > max)) {
    throw new InvalidArgumentError('port_range_min', `For TCP/UDP protocols, port_range_min must be <= port_range_max (${min ?? 'none'} > ${max})`);
  }
}
