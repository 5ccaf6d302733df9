import { InvalidArgumentError } from '@minicloud/domain-errors';
import { cidrContains, parseCidr } from './cidr';
import { ipToInt } from './ipv4';

/** Traffic direction relative to the port (the VM): ingress = towards the VM. */
export type Direction = 'ingress' | 'egress';
export type Ethertype = 'IPv4' | 'IPv6';
/** IP protocols a rule can name; null in a rule means any protocol. */
export type RuleProtocol = 'tcp' | 'udp' | 'icmp';

/**
 * A security group rule, Neutron semantics. Rules only allow; anything no rule allows is dropped.
 * - tcp/udp: `portRangeMin..portRangeMax` is the destination port range (null = all ports).
 * - icmp: `portRangeMin` is the ICMP type and `portRangeMax` the ICMP code (null = any).
 * - `remoteIpPrefix` (IPv4 CIDR) and `remoteGroupId` restrict the other end; at most one is set;
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
  if (rule.protocol !== packet.protocol) return false;
  if (rule.protocol === 'icmp') {
    return (
      (rule.portRangeMin === null || rule.portRangeMin === packet.icmpType) &&
      (rule.portRangeMax === null || rule.portRangeMax === packet.icmpCode)
    );
  }
  if (rule.portRangeMin === null) return true;
  const max = rule.portRangeMax ?? rule.portRangeMin;
  return packet.dstPort !== undefined && packet.dstPort >= rule.portRangeMin && packet.dstPort <= max;
}

function remoteMatches(rule: SecurityGroupRule, packet: Packet, groupMembership: GroupMembership): boolean {
  if (rule.remoteGroupId !== null && !(groupMembership.get(rule.remoteGroupId)?.has(packet.remoteIp) ?? false)) {
    return false;
  }
  if (rule.remoteIpPrefix !== null) {
    if (packet.ethertype !== 'IPv4') return rule.remoteIpPrefix === '::/0';
    return cidrContains(parseCidr(rule.remoteIpPrefix, 'remote_ip_prefix'), ipToInt(packet.remoteIp, 'remote_ip'));
  }
  return true;
}

/**
 * Validates a rule as Neutron's API does.
 * @throws InvalidArgumentError naming the field: 'direction', 'ethertype', 'protocol',
 *   'port_range_min' / 'port_range_max' (ports without a protocol; tcp/udp outside 0..65535 or
 *   min > max; icmp type/code outside 0..255), 'remote_ip_prefix' (bad IPv4 CIDR; IPv6 prefixes
 *   other than ::/0 are not supported), 'remote_group_id' (set together with a prefix)
 */
export function validateSecurityGroupRule(rule: SecurityGroupRule): void {
  if (rule.direction !== 'ingress' && rule.direction !== 'egress') {
    throw new InvalidArgumentError('direction', `"${String(rule.direction)}" is not ingress or egress`);
  }
  if (rule.ethertype !== 'IPv4' && rule.ethertype !== 'IPv6') {
    throw new InvalidArgumentError('ethertype', `"${String(rule.ethertype)}" is not IPv4 or IPv6`);
  }
  if (rule.protocol !== null && !['tcp', 'udp', 'icmp'].includes(rule.protocol)) {
    throw new InvalidArgumentError('protocol', `"${String(rule.protocol)}" is not tcp, udp, icmp or null (any)`);
  }
  validatePorts(rule);
  if (rule.remoteIpPrefix !== null && rule.remoteGroupId !== null) {
    throw new InvalidArgumentError('remote_group_id', 'remote_group_id and remote_ip_prefix are mutually exclusive');
  }
  if (rule.remoteIpPrefix !== null) {
    if (rule.ethertype === 'IPv4') parseCidr(rule.remoteIpPrefix, 'remote_ip_prefix');
    else if (rule.remoteIpPrefix !== '::/0') {
      throw new InvalidArgumentError('remote_ip_prefix', 'IPv6 prefixes other than ::/0 are not supported');
    }
  }
}

function validatePorts(rule: SecurityGroupRule): void {
  const { portRangeMin: min, portRangeMax: max } = rule;
  if (min === null && max === null) return;
  if (rule.protocol === null) {
    throw new InvalidArgumentError('port_range_min', 'a port range needs protocol tcp, udp or icmp');
  }
  const limit = rule.protocol === 'icmp' ? 255 : 65535;
  for (const [field, value] of [['port_range_min', min], ['port_range_max', max]] as const) {
    if (value !== null && (!Number.isInteger(value) || value < 0 || value > limit)) {
      throw new InvalidArgumentError(field, `${value} is outside 0..${limit} for ${rule.protocol}`);
    }
  }
  if (rule.protocol !== 'icmp') {
    if (min === null) throw new InvalidArgumentError('port_range_min', 'required when port_range_max is set');
    if (max !== null && min > max) {
      throw new InvalidArgumentError('port_range_min', `${min} is greater than port_range_max ${max}`);
    }
  }
}
