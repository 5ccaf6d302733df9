import { HostWeigher, WeigherOptions } from '../host-weigher';
import { createSoftServerGroupWeigher } from './soft-server-group-weigher';

/**
 * Nova's ServerGroupSoftAffinityWeigher: for a `soft-affinity` group, raw weight = members of the
 * group on the host (more wins); 0 for other requests. Default multiplier 1.0.
 */
export function createServerGroupSoftAffinityWeigher(options: WeigherOptions = {}): HostWeigher {
  return createSoftServerGroupWeigher(
    { name: 'ServerGroupSoftAffinityWeigher', multiplierKey: 'soft_affinity_weight_multiplier', policy: 'soft-affinity', sign: 1 },
    options,
  );
}
