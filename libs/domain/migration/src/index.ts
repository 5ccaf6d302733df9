export * from './migration-parameters';
export * from './pre-copy';
export * from './pre-copy-stepper';
