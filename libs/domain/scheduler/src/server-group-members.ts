import { HostState } from './host-state';
import { ServerGroupSpec } from './request-spec';

/**
 * How many members of `group` run on `host`: the host's `serverGroupMembers[group.id]`, and at least 1
 * when the group lists the host in `hostIds` (the counts may lag the group's host list).
 */
export function groupMembersOnHost(host: HostState, group: ServerGroupSpec): number {
  const counted = host.serverGroupMembers?.[group.id] ?? 0;
  return counted === 0 && group.hostIds.includes(host.hostId) ? 1 : counted;
}
