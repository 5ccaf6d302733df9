// @minicloud/client: the one client library of minicloud's public gRPC APIs (identity, image,
// volume, network, compute): token session, catalog, failover across replicas, name-or-id resolution.
export * from './catalog';
export * from './paging';
export * from './resolve';
export * from './services';
export * from './session';
export * from './streams';
export { failoverClient, neverConnected, safeToFailOver, type FailoverOptions, type CallOptions } from '@minicloud/platform-grpc';
