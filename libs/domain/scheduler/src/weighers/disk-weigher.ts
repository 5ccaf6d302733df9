import { HostWeigher, WeigherOptions } from '../host-weigher';

/**
 * Nova's DiskWeigher: raw weight = free physical disk in GB (total - reserved - used). Default
 * multiplier 1.0 spreads; negative packs.
 */
export function createDiskWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'DiskWeigher',
    multiplierKey: 'disk_weight_multiplier',
    configuredMultiplier: options.multiplier ?? 1.0,
    rawWeight: (host) => host.diskGbTotal - (host.diskGbReserved ?? 0) - host.diskGbUsed,
  };
}
