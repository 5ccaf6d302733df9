import { HostWeigher, WeigherOptions } from '../host-weigher';
import { groupMembersOnHost } from '../server-group-members';

/** What tells Nova's two soft server-group weighers apart. */
export interface SoftServerGroupWeigherKind {
  name: 'ServerGroupSoftAffinityWeigher' | 'ServerGroupSoftAntiAffinityWeigher';
  multiplierKey: 'soft_affinity_weight_multiplier' | 'soft_anti_affinity_weight_multiplier';
  /** The group policy the weigher acts on; requests without a group of that policy weigh 0. */
  policy: 'soft-affinity' | 'soft-anti-affinity';
  /** +1: more members on the host wins (affinity); -1: fewer wins (anti-affinity). */
  sign: 1 | -1;
}

/**
 * The shared body of Nova's soft server-group weighers: raw weight = `sign` x members of the
 * request's group on the host when the group has `policy`, else 0. Default multiplier 1.0.
 */
export function createSoftServerGroupWeigher(kind: SoftServerGroupWeigherKind, options: WeigherOptions = {}): HostWeigher {
  return {
    name: kind.name,
    multiplierKey: kind.multiplierKey,
    configuredMultiplier: options.multiplier ?? 1.0,
    rawWeight: (host, spec) => (spec.serverGroup?.policy === kind.policy ? kind.sign * groupMembersOnHost(host, spec.serverGroup) : 0),
  };
}
