import { resourceFilter } from './resource-filter';

/** Nova's CoreFilter + AggregateCoreFilter: enough vCPUs at the (aggregate) cpu_allocation_ratio. */
export const coreFilter = resourceFilter('CoreFilter', 'vcpu', 'vCPUs', 'vCPUs');
