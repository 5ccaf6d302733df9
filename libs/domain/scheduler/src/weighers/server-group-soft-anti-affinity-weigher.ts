import { HostWeigher, WeigherOptions } from '../host-weigher';
import { createSoftServerGroupWeigher } from './soft-server-group-weigher';

/**
 * Nova's ServerGroupSoftAntiAffinityWeigher: for a `soft-anti-affinity` group, raw weight = minus the
 * members of the group on the host (fewer wins); 0 for other requests. Default multiplier 1.0.
 */
export function createServerGroupSoftAntiAffinityWeigher(options: WeigherOptions = {}): HostWeigher {
  return createSoftServerGroupWeigher(
    { name: 'ServerGroupSoftAntiAffinityWeigher', multiplierKey: 'soft_anti_affinity_weight_multiplier', policy: 'soft-anti-affinity', sign: -1 },
    options,
  );
}
