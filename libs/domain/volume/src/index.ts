export * from './volume-status';
export * from './pool';
export * from './pool-capacity';
export * from './volume-type';
export * from './pool-scheduler';
export * from './volume-qos';
export * from './replica-placement';
export * from './block-map';
