export * from './redis';
export * from './ha-keys';
