import { HostWeigher, WeigherOptions } from '../host-weigher';

/**
 * Nova's RAMWeigher: raw weight = free physical RAM in MB (total - reserved - used). Default
 * multiplier 1.0 spreads (most free wins); a negative multiplier packs.
 */
export function createRamWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'RAMWeigher',
    multiplierKey: 'ram_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 1.0,
    rawWeight: (host) => host.ramMbTotal - host.ramMbReserved - host.ramMbUsed,
  };
}
