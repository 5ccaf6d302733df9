import { resourceFilter } from './resource-filter';

/** Nova's DiskFilter + AggregateDiskFilter: enough GB of disk at the (aggregate) disk_allocation_ratio. */
export const diskFilter = resourceFilter('DiskFilter', 'disk', 'disk', 'GB');
