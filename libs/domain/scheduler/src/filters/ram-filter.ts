import { resourceFilter } from './resource-filter';

/** Nova's RamFilter + AggregateRamFilter: enough MB of RAM at the (aggregate) ram_allocation_ratio. */
export const ramFilter = resourceFilter('RamFilter', 'ram', 'RAM', 'MB');
