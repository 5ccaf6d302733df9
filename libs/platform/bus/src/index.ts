export * from './bus';
export * from './subjects';
