export * from './status-mapping';
export * from './types';
export * from './server';
export * from './client';
export * from './failover';
export * from './input-limits';
export * from './tls';
