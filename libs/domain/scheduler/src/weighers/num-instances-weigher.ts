import { HostWeigher, WeigherOptions } from '../host-weigher';

/**
 * Nova's NumInstancesWeigher: raw weight = number of instances on the host. Nova's default
 * multiplier is 0.0 (off); positive packs onto busy hosts, negative spreads.
 */
export function createNumInstancesWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'NumInstancesWeigher',
    multiplierKey: 'num_instances_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 0.0,
    rawWeight: (host) => host.numInstances,
  };
}
