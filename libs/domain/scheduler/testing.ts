// Resolves `@minicloud/domain-scheduler/testing` (HostState and RequestSpec builders; test code only).
export * from './src/testing';
