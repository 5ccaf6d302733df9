import { compute, identity, image, network } from '@minicloud/proto';
import { createServiceClient, type CallOptions, type ServiceClient } from '@minicloud/platform-grpc';
import { NotFoundError } from '@minicloud/domain-errors';

/** The gRPC services the REST front translates to, as typed clients. */
export interface Backends {
  identity: ServiceClient<typeof identity.IdentityServiceService>;
  compute: ServiceClient<typeof compute.ComputeServiceService>;
  image: ServiceClient<typeof image.ImageServiceService>;
  network: ServiceClient<typeof network.NetworkServiceService>;
}

/** Per-call options the REST layer passes to gRPC: the caller's own token and the request id. */
export type CallContext = Pick<CallOptions, 'token' | 'requestId'>;

/**
 * Clients of identity (at `identityUrl`) and of the services identity's catalog lists (resolved on
 * first use, public endpoint first). The REST front holds no credentials of its own: every call
 * carries the caller's token.
 */
export function catalogBackends(identityUrl: string, opts: { deadlineMs?: number } = {}): Backends & { close(): void } {
  const id = createServiceClient(identity.IdentityServiceService, identityUrl, { deadlineMs: opts.deadlineMs, idempotent: ['getCatalog', 'getPublicKeys', 'validateToken'] });
  const urls = new Map<string, Promise<string>>();
  const endpoint = (type: string) => {
    let p = urls.get(type);
    if (!p) {
      p = id.getCatalog({}).then((res) => {
        const mine = res.catalog.filter((e) => e.serviceType === type);
        const pick = mine.find((e) => e.interface === 'public') ?? mine[0];
        if (!pick) throw new NotFoundError('endpoint', type, 'not in the service catalog');
        return pick.url;
      });
      p.catch(() => urls.delete(type));
      urls.set(type, p);
    }
    return p;
  };
  const clients: { close(): void }[] = [id];
  const lazy = <D extends Record<string, unknown>>(type: string, def: D): ServiceClient<D> => {
    let client: ServiceClient<D> | undefined;
    const get = async () => {
      if (!client) {
        const url = await endpoint(type);
        client ??= createServiceClient(def as never, url, { deadlineMs: opts.deadlineMs }) as ServiceClient<D>;
        clients.push(client);
      }
      return client;
    };
    return new Proxy({} as ServiceClient<D>, {
      get: (_t, name: string) =>
        name === 'close' ? () => client?.close() : async (req: unknown, o?: CallOptions) => ((await get()) as Record<string, (r: unknown, o?: CallOptions) => unknown>)[name](req, o),
    });
  };
  return {
    identity: id,
    compute: lazy('compute', compute.ComputeServiceService),
    image: lazy('image', image.ImageServiceService),
    network: lazy('network', network.NetworkServiceService),
    close: () => clients.forEach((c) => c.close()),
  };
}
