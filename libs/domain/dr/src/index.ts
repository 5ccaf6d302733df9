export * from './wan-link';
export * from './replication-schedule';
export * from './recovery-plan';
export * from './recovery-run';
