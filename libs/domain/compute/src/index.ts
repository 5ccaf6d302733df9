export * from './instance';
export * from './instance-status';
export * from './server-actions';
export * from './lifecycle-rules';
export * from './host-liveness';
export * from './flavor-validation';
export * from './flavor-extra-specs';
export * from './power-sync';
