import { HostWeigher, WeigherOptions } from '../host-weigher';
import { groupMembersOnHost } from '../server-group-members';

/**
 * Nova's ServerGroupSoftAffinityWeigher: for a `soft-affinity` group, raw weight = members of the
 * group on the host (more wins); 0 for other requests. Default multiplier 1.0.
 */
export function createServerGroupSoftAffinityWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'ServerGroupSoftAffinityWeigher',
    multiplierKey: 'soft_affinity_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 1.0,
    rawWeight: (host, spec) =>
      spec.serverGroup?.policy === 'soft-affinity' ? groupMembersOnHost(host, spec.serverGroup) : 0,
  };
}
