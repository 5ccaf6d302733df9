export * from './service-credentials';
export * from './run-service';
export * from './revocation-sync';
export * from './denied-audit';
export * from './run-stateless-service';
