import { HostWeigher, WeigherOptions } from '../host-weigher';

/**
 * Nova's BuildFailureWeigher: raw weight = minus the host's recent build failures. Nova's default
 * multiplier 1000000.0 makes one failure outweigh every other weigher.
 */
export function createBuildFailureWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'BuildFailureWeigher',
    multiplierKey: 'build_failure_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 1_000_000.0,
    rawWeight: (host) => -host.failedBuilds,
  };
}
