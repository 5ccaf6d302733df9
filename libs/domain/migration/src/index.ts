export * from './pre-copy';
