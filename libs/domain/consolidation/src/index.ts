export * from './statistics';
export * from './overload-detection';
export * from './vm-selection';
export * from './cloudsim-types';
export * from './cloudsim-datacenter';
export * from './cloudsim-scenario';
export * from './policy-name';
export * from './consolidation-planner';
