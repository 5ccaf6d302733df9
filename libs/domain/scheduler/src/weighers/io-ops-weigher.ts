import { HostWeigher, WeigherOptions } from '../host-weigher';

/**
 * Nova's IoOpsWeigher: raw weight = I/O-heavy operations in progress on the host. Nova's default
 * multiplier is -1.0: hosts with fewer I/O ops win.
 */
export function createIoOpsWeigher(options: WeigherOptions = {}): HostWeigher {
  return {
    name: 'IoOpsWeigher',
    multiplierKey: 'io_ops_weight_multiplier',
    configuredMultiplier: options.multiplier ?? -1.0,
    rawWeight: (host) => host.numIoOps,
  };
}
