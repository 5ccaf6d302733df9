export * from './runnable';
export * from './leader';
export * from './shutdown';
export * from './system-clock';
export * from './transient';
export * from './work-queue';
