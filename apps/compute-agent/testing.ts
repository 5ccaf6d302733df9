// Resolves `@minicloud/compute-agent/testing` (test code only).
export * from './src/testing';
