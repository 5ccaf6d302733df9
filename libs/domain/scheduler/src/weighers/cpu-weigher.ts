import { freeCapacity } from '../capacity';
import { HostWeigher, WeigherOptions } from '../host-weigher';

/**
 * Nova's CPUWeigher: raw weight = free vCPUs at the allocation ratio (vcpus_total * ratio -
 * vcpus_used, reserved subtracted first). Default multiplier 1.0 spreads; negative packs.
 */
export function createCpuWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'CPUWeigher',
    multiplierKey: 'cpu_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 1.0,
    rawWeight: (host) => freeCapacity(host, 'vcpu'),
  };
}
