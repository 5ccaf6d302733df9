export * from './metrics';
export * from './http-server';
