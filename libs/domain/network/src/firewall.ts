import { evaluate, type Direction, type SecurityGroupRule } from './security-group';

/**
 * What a port's firewall holds (what Neutron's agent fetches with security_group_rules_for_devices):
 * whether port security is on, the union of its groups' rules, group names for messages, and the
 * member IPs of every group a rule names as remote group.
 */
export interface PortFirewall {
  readonly portId: string;
  readonly portSecurityEnabled: boolean;
  readonly rules: readonly SecurityGroupRule[];
  /** Group id -> name. */
  readonly groupNames: Readonly<Record<string, string>>;
  /** Group id -> IPv4 addresses of member ports. */
  readonly membership: Readonly<Record<string, readonly string[]>>;
}

/** Outcome of one firewall check: allowed with the rule (or why no rule was needed), or dropped with why. */
export interface FirewallDecision {
  readonly allowed: boolean;
  readonly ruleId?: string;
  readonly description: string;
}

/**
 * Evaluates a new flow (not a reply) against a port's firewall in one direction.
 * @param remoteIp the other end: destination for egress, source for ingress
 */
export function checkFirewall(fw: PortFirewall | undefined, direction: Direction, p: { protocol: string; dstPort: number; remoteIp: string }): FirewallDecision {
  if (!fw) return { allowed: false, description: `${direction}: the port's firewall is unknown on this host` };
  if (!fw.portSecurityEnabled) return { allowed: true, description: `${direction}: port security disabled on port ${fw.portId}` };
  const membership = new Map(Object.entries(fw.membership).map(([g, ips]) => [g, new Set(ips)]));
  const verdict = evaluate(
    { direction, ethertype: 'IPv4', protocol: p.protocol, remoteIp: p.remoteIp, dstPort: p.protocol === 'icmp' ? undefined : p.dstPort, icmpType: p.protocol === 'icmp' ? 8 : undefined, icmpCode: p.protocol === 'icmp' ? 0 : undefined, isReply: false },
    fw.rules,
    membership,
  );
  const groups = [...new Set(fw.rules.map((r) => r.securityGroupId ?? ''))].filter(Boolean);
  const names = groups.map((g) => `${fw.groupNames[g] ?? '?'} (${g})`).join(', ') || 'none';
  const flow = `${p.protocol}${p.protocol === 'icmp' ? '' : `/${p.dstPort}`} ${direction === 'ingress' ? 'from' : 'to'} ${p.remoteIp}`;
  if (verdict.allowed) {
    const rule = fw.rules.find((r) => r.id === verdict.matchedRuleId);
    return { allowed: true, ruleId: verdict.matchedRuleId, description: `${direction} ${flow} allowed by rule ${verdict.matchedRuleId} of group ${fw.groupNames[rule?.securityGroupId ?? ''] ?? '?'} (${describeRule(rule)})` };
  }
  return { allowed: false, description: `${direction} ${flow} dropped: no rule of security group(s) ${names} allows it` };
}

/** Human form of a rule, e.g. "ingress tcp 22-22 from 0.0.0.0/0". */
export function describeRule(r: SecurityGroupRule | undefined): string {
  if (!r) return 'unknown rule';
  const proto = r.protocol ?? 'any';
  const ports = r.portRangeMin === null ? '' : ` ${r.portRangeMin}-${r.portRangeMax ?? r.portRangeMin}`;
  const remote = r.remoteIpPrefix ? r.remoteIpPrefix : r.remoteGroupId ? `group ${r.remoteGroupId}` : 'anywhere';
  return `${r.direction} ${proto}${ports} ${r.direction === 'ingress' ? 'from' : 'to'} ${remote}`;
}
