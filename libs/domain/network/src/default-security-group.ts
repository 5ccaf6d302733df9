import type { SecurityGroupRule } from './security-group';

/** Name of the group every project gets (Neutron creates it on first use). */
export const DEFAULT_SECURITY_GROUP_NAME = 'default';

/**
 * The rules of a project's default security group, as Neutron creates them for IPv4: allow all
 * egress, and allow ingress from members of the same group. (Neutron adds the same pair for IPv6;
 * minicloud models IPv4 only.) Everything else inbound is dropped; replies pass (stateful).
 * @param groupId the default group's id (the ingress rule's remote group)
 * @param newId makes rule ids (e.g. a UUID generator), injected so this stays pure
 */
export function defaultSecurityGroupRules(groupId: string, newId: () => string): SecurityGroupRule[] {
  const base = { securityGroupId: groupId, ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null } as const;
  return [
    { ...base, id: newId(), direction: 'egress', remoteGroupId: null },
    { ...base, id: newId(), direction: 'ingress', remoteGroupId: groupId },
  ];
}
