export * from './vm-state-machine';
export * from './power-model';
export * from './host-profile';
export * from './boot-model';
export * from './image-cache';
export * from './host-resources';
export * from './workload';
