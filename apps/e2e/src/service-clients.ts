import { compute, identity, image, network, volume } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';

/** gRPC clients of the five public services, all calling with one token. */
export type Clients = {
  id: ServiceClient<typeof identity.IdentityServiceService>;
  img: ServiceClient<typeof image.ImageServiceService>;
  net: ServiceClient<typeof network.NetworkServiceService>;
  vol: ServiceClient<typeof volume.VolumeServiceService>;
  cmp: ServiceClient<typeof compute.ComputeServiceService>;
};

/**
 * Clients for `token` at the catalog's endpoints (service type -> host:port, from a login's catalog),
 * with a 20 s deadline; each is pushed to `opened` so the test closes them all at the end.
 */
export function serviceClients(endpoints: Map<string, string>, token: string, opened: { close(): void }[]): Clients {
  const o = { token: () => token, deadlineMs: 20_000 };
  const c = {
    id: createServiceClient(identity.IdentityServiceService, endpoints.get('identity')!, o),
    img: createServiceClient(image.ImageServiceService, endpoints.get('image')!, o),
    net: createServiceClient(network.NetworkServiceService, endpoints.get('network')!, o),
    vol: createServiceClient(volume.VolumeServiceService, endpoints.get('volume')!, o),
    cmp: createServiceClient(compute.ComputeServiceService, endpoints.get('compute')!, o),
  };
  opened.push(...Object.values(c));
  return c;
}
