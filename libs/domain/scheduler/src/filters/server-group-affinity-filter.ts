import { HostFilter, PASS, reject } from '../host-filter';

/**
 * Nova's ServerGroupAffinityFilter (hard `affinity`): once the group has members, only their hosts
 * pass. The first member may land anywhere.
 */
export const serverGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  summary: { one: 'does not hold the affinity group', many: 'do not hold the affinity group' },
  hostPasses(host, spec) {
    const group = spec.serverGroup;
    if (!group || group.policy !== 'affinity' || group.hostIds.length === 0) return PASS;
    if (group.hostIds.includes(host.hostId)) return PASS;
    return reject(`server group ${group.id} (affinity) runs on ${group.hostIds.join(', ')}`);
  },
};
