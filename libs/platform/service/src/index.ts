export * from './service-credentials';
export * from './run-service';
