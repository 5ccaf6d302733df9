import { HostWeigher, WeigherOptions } from '../host-weigher';
import { groupMembersOnHost } from '../server-group-members';

/**
 * Nova's ServerGroupSoftAntiAffinityWeigher: for a `soft-anti-affinity` group, raw weight = minus the
 * members of the group on the host (fewer wins); 0 for other requests. Default multiplier 1.0.
 */
export function createServerGroupSoftAntiAffinityWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'ServerGroupSoftAntiAffinityWeigher',
    multiplierKey: 'soft_anti_affinity_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 1.0,
    rawWeight: (host, spec) =>
      spec.serverGroup?.policy === 'soft-anti-affinity' ? -groupMembersOnHost(host, spec.serverGroup) : 0,
  };
}
