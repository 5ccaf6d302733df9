import type { SecurityGroupRule } from './security-group';

/** Name of the group every project gets (Neutron creates it on first use). */
export const DEFAULT_SECURITY_GROUP_NAME = 'default';

/**
 * The rules of a project's default security group, as Neutron creates them: for IPv4 and for IPv6,
 * allow all egress and allow ingress from members of the same group. Everything else inbound is
 * dropped; replies pass (stateful).
 * @param groupId the default group's id (the ingress rules' remote group)
 * @param newId makes rule ids (e.g. a UUID generator), injected so this stays pure
 */
export function defaultSecurityGroupRules(groupId: string, newId: () => string): SecurityGroupRule[] {
  return (['IPv4', 'IPv6'] as const).flatMap((ethertype) => {
    const base = { securityGroupId: groupId, ethertype, protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null } as const;
    return [
      { ...base, id: newId(), direction: 'egress' as const, remoteGroupId: null },
      { ...base, id: newId(), direction: 'ingress' as const, remoteGroupId: groupId },
    ];
  });
}

/**
 * The rules Neutron gives every other new group: all egress, for IPv4 and for IPv6 (no ingress).
 * @param newId makes rule ids, injected so this stays pure
 */
export function newSecurityGroupRules(groupId: string, newId: () => string): SecurityGroupRule[] {
  return (['IPv4', 'IPv6'] as const).map((ethertype) => ({
    id: newId(),
    securityGroupId: groupId,
    direction: 'egress' as const,
    ethertype,
    protocol: null,
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    remoteGroupId: null,
  }));
}
