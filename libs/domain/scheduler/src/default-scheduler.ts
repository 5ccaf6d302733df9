import { Rng } from '@minicloud/domain-clock';
import { aggregateInstanceExtraSpecsFilter } from './filters/aggregate-instance-extra-specs-filter';
import { availabilityZoneFilter } from './filters/availability-zone-filter';
import { computeFilter } from './filters/compute-filter';
import { cpuModelFilter } from './filters/cpu-model-filter';
import { coreFilter } from './filters/core-filter';
import { differentHostFilter } from './filters/different-host-filter';
import { diskFilter } from './filters/disk-filter';
import { imagePropertiesFilter } from './filters/image-properties-filter';
import { memoryStateFilter } from './filters/memory-state-filter';
import { ramFilter } from './filters/ram-filter';
import { sameHostFilter } from './filters/same-host-filter';
import { serverGroupAffinityFilter } from './filters/server-group-affinity-filter';
import { serverGroupAntiAffinityFilter } from './filters/server-group-anti-affinity-filter';
import { HostFilter } from './host-filter';
import { HostWeigher } from './host-weigher';
import { createScheduler, Scheduler } from './scheduler';
import { createBuildFailureWeigher } from './weighers/build-failure-weigher';
import { createCpuWeigher } from './weighers/cpu-weigher';
import { createDiskWeigher } from './weighers/disk-weigher';
import { createIoOpsWeigher } from './weighers/io-ops-weigher';
import { createNumInstancesWeigher } from './weighers/num-instances-weigher';
import { createRamWeigher } from './weighers/ram-weigher';
import { createServerGroupSoftAffinityWeigher } from './weighers/server-group-soft-affinity-weigher';
import { createServerGroupSoftAntiAffinityWeigher } from './weighers/server-group-soft-anti-affinity-weigher';

/** Multipliers of the standard weighers; unset ones keep Nova's defaults (given per weigher). */
export interface WeightMultipliers {
  readonly ram?: number; // 1.0
  readonly cpu?: number; // 1.0
  readonly disk?: number; // 1.0
  readonly numInstances?: number; // 0.0
  readonly ioOps?: number; // -1.0
  readonly softAffinity?: number; // 1.0
  readonly softAntiAffinity?: number; // 1.0
  readonly buildFailure?: number; // 1000000.0
}

/** Configuration of {@link defaultScheduler}. */
export interface DefaultSchedulerConfig {
  readonly rng: Rng;
  /** Nova's `host_subset_size`, default 1. */
  readonly hostSubsetSize?: number;
  /** Nova's `max_attempts - 1`, default 2. */
  readonly maxAlternates?: number;
  readonly weightMultipliers?: WeightMultipliers;
}

/** The standard filters, cheapest and most selective first. */
export const DEFAULT_FILTERS: readonly HostFilter[] = [
  computeFilter,
  availabilityZoneFilter,
  memoryStateFilter,
  ramFilter,
  coreFilter,
  diskFilter,
  aggregateInstanceExtraSpecsFilter,
  imagePropertiesFilter,
  cpuModelFilter,
  serverGroupAntiAffinityFilter,
  serverGroupAffinityFilter,
  differentHostFilter,
  sameHostFilter,
];

/** The standard weighers with `multipliers` applied (Nova's defaults otherwise: RAM 1.0 spreads). */
export function defaultWeighers(multipliers: WeightMultipliers = {}): HostWeigher[] {
  return [
    createRamWeigher({ multiplier: multipliers.ram }),
    createCpuWeigher({ multiplier: multipliers.cpu }),
    createDiskWeigher({ multiplier: multipliers.disk }),
    createNumInstancesWeigher({ multiplier: multipliers.numInstances }),
    createIoOpsWeigher({ multiplier: multipliers.ioOps }),
    createServerGroupSoftAffinityWeigher({ multiplier: multipliers.softAffinity }),
    createServerGroupSoftAntiAffinityWeigher({ multiplier: multipliers.softAntiAffinity }),
    createBuildFailureWeigher({ multiplier: multipliers.buildFailure }),
  ];
}

/**
 * A scheduler wired with {@link DEFAULT_FILTERS} and {@link defaultWeighers}.
 * @throws InvalidArgumentError for a bad hostSubsetSize or maxAlternates
 */
export function defaultScheduler(config: DefaultSchedulerConfig): Scheduler {
  return createScheduler({
    filters: DEFAULT_FILTERS,
    weighers: defaultWeighers(config.weightMultipliers),
    hostSubsetSize: config.hostSubsetSize,
    maxAlternates: config.maxAlternates,
    rng: config.rng,
  });
}
