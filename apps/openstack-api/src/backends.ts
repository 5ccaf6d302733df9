import { endpointsOf, SERVICE_DEFINITIONS, serviceClient, type CloudClients, type ConnectFn } from '@minicloud/client';
import { createServiceClient, type CallOptions } from '@minicloud/platform-grpc';

/** The gRPC services the REST front translates to, as typed clients of the shared client library. */
export type Backends = Pick<CloudClients, 'identity' | 'compute' | 'image' | 'network' | 'volume'>;

/** Per-call options the REST layer passes to gRPC: the caller's own token and the request id. */
export type CallContext = Pick<CallOptions, 'token' | 'requestId'>;

/**
 * Clients of identity (at `identityUrl`) and of the services identity's catalog lists, through the
 * shared client library (failover across a service's replicas in catalog order). The catalog is
 * re-read at most every `catalogTtlMs` (default 5 s), so replicas that come and go are followed;
 * `deadlineMs` bounds each gRPC call; `region` picks that region's endpoints (default RegionOne).
 * The REST front holds no credentials of its own: every call carries the caller's token
 * (CallOptions.token), and no client has a token source.
 */
export function catalogBackends(identityUrl: string, opts: { catalogTtlMs?: number; deadlineMs?: number; nowMs?: () => number; /** The front's region: it translates to that region's services. */ region?: string } = {}): Backends & { close(): void } {
  const nowMs = opts.nowMs ?? (() => Date.now());
  const connect: ConnectFn = (type, address, token) => createServiceClient(SERVICE_DEFINITIONS[type], address, { token, deadlineMs: opts.deadlineMs }) as never;
  const identity = serviceClient('identity', { endpoints: () => [identityUrl], token: () => undefined, connect });
  let cached: { atMs: number; catalog: Promise<{ serviceType: string; url: string; interface: string; region: string }[]> } | undefined;
  const catalog = () => {
    if (!cached || nowMs() - cached.atMs > (opts.catalogTtlMs ?? 5000)) {
      const p = identity.getCatalog({}).then((r) => r.catalog);
      p.catch(() => (cached = undefined));
      cached = { atMs: nowMs(), catalog: p };
    }
    return cached.catalog;
  };
  const client = <K extends 'compute' | 'image' | 'network' | 'volume'>(type: K) => serviceClient(type, { endpoints: async () => endpointsOf(await catalog(), type, opts.region), token: () => undefined, connect });
  const clients = { identity, compute: client('compute'), image: client('image'), network: client('network'), volume: client('volume') };
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) };
}
