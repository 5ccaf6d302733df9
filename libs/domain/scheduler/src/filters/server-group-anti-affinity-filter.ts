import { HostFilter, PASS, reject } from '../host-filter';
import { groupMembersOnHost } from '../server-group-members';

/**
 * Nova's ServerGroupAntiAffinityFilter (hard `anti-affinity`): a host passes while it holds fewer
 * than `maxServerPerHost` (default 1) members of the group.
 */
export const serverGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  summary: { one: 'already holds an anti-affinity group member', many: 'already hold anti-affinity group members' },
  hostPasses(host, spec) {
    const group = spec.serverGroup;
    if (!group || group.policy !== 'anti-affinity') return PASS;
    const max = group.maxServerPerHost ?? 1;
    const members = groupMembersOnHost(host, group);
    if (members < max) return PASS;
    return reject(`host holds ${members} member(s) of server group ${group.id} (anti-affinity, max ${max} per host)`);
  },
};
