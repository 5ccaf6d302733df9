import { createServiceClient, failoverClient, safeToFailOver, type CallOptions, type GrpcTls, type ServiceClient } from '@minicloud/platform-grpc';
import { MinicloudError } from '@minicloud/domain-errors';
import { compute, elasticity, identity, image, network, volume } from '@minicloud/proto';

/** The generated definitions of the public APIs, keyed by catalog service type. */
export const SERVICE_DEFINITIONS = {
  identity: identity.IdentityServiceService,
  image: image.ImageServiceService,
  volume: volume.VolumeServiceService,
  network: network.NetworkServiceService,
  compute: compute.ComputeServiceService,
  'load-balancer': elasticity.ElasticityServiceService,
} as const;

/** Promise clients of the public APIs, keyed by catalog service type. */
export interface CloudClients {
  identity: ServiceClient<typeof identity.IdentityServiceService>;
  image: ServiceClient<typeof image.ImageServiceService>;
  volume: ServiceClient<typeof volume.VolumeServiceService>;
  network: ServiceClient<typeof network.NetworkServiceService>;
  compute: ServiceClient<typeof compute.ComputeServiceService>;
  /** The elasticity service (load balancers and scaling groups; also registered as `clustering`). */
  'load-balancer': ServiceClient<typeof elasticity.ElasticityServiceService>;
}

/** A catalog service type: identity, image, volume, network, compute, load-balancer. */
export type ServiceType = keyof CloudClients;

/** The catalog service types, in the order `minicloud catalog` lists them. */
export const SERVICE_TYPES: readonly ServiceType[] = ['identity', 'compute', 'image', 'network', 'volume'];

/** Supplies the bearer token of a call; undefined sends none (Authenticate). */
export type TokenSource = () => string | undefined | Promise<string | undefined>;

/**
 * Creates the client of one service at `address` (host:port); `token` supplies the bearer token per
 * call. The default is {@link connectGrpc}; tests pass fakes.
 */
export type ConnectFn = <K extends ServiceType>(type: K, address: string, token: TokenSource) => CloudClients[K];

/**
 * The default {@link ConnectFn}: a real gRPC client from @minicloud/platform-grpc (its deadline,
 * retries of reads, request ids), TLS or plaintext as the environment says (TLS_CA_FILE).
 */
export const connectGrpc: ConnectFn = (type, address, token) => createServiceClient(SERVICE_DEFINITIONS[type], address, { token }) as never;

/**
 * A {@link ConnectFn} over TLS: every service's certificate is verified against `tls.ca` (the cloud's
 * CA, e.g. the bring-up's `<state-dir>/tls/ca.pem`) and its name against the catalog address.
 */
export function connectGrpcTls(tls: GrpcTls): ConnectFn {
  return (type, address, token) => createServiceClient(SERVICE_DEFINITIONS[type], address, { token, tls }) as never;
}

/** Which service and endpoint an error came from; set as `service` on every error a client built here throws. */
export interface ServiceLocation {
  type: string;
  address: string;
}

/** The {@link ServiceLocation} attached to `e` by a client of this library, if any. */
export function serviceOf(e: unknown): ServiceLocation | undefined {
  return (e as { service?: ServiceLocation } | undefined)?.service;
}

/** Options of {@link serviceClient}. */
export interface ServiceClientOptions {
  /** The service's endpoints in failover order (read at every call); see {@link failoverClient}. */
  endpoints: () => readonly string[] | Promise<readonly string[]>;
  token: TokenSource;
  connect?: ConnectFn;
}

/**
 * The client of one service over its catalog endpoints: fails over across replicas with
 * {@link safeToFailOver} (client-streaming calls, e.g. UploadImage, are never sent twice; server
 * streams go to one endpoint), and every typed error it throws carries `service` ({@link ServiceLocation}).
 */
export function serviceClient<K extends ServiceType>(type: K, opts: ServiceClientOptions): CloudClients[K] {
  const def = SERVICE_DEFINITIONS[type] as Record<string, { requestStream: boolean; responseStream: boolean }>;
  const streams = Object.keys(def).filter((m) => def[m].responseStream);
  const clientStreams = new Set(Object.keys(def).filter((m) => def[m].requestStream && !def[m].responseStream));
  const connect = opts.connect ?? connectGrpc;
  return failoverClient({
    endpoints: opts.endpoints,
    connect: (address) => annotateClient(connect(type, address, opts.token), { type, address }),
    retryable: (method, e) => !clientStreams.has(method) && safeToFailOver(method, e),
    streams,
  }) as unknown as CloudClients[K];
}

/**
 * A view of `client` whose every call gets `defaults` as CallOptions (a call's own options win):
 * e.g. the x-request-id of the REST request being served, or the caller's token.
 */
export function withCallOptions<C extends object>(client: C, defaults: CallOptions): C {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (req: unknown, callOpts?: CallOptions) => (value as (r: unknown, o: CallOptions) => unknown).call(target, req, { ...defaults, ...callOpts });
    },
  });
}

function annotate<T>(p: Promise<T>, where: ServiceLocation): Promise<T> {
  return p.catch((e: unknown) => {
    if (e instanceof MinicloudError && !serviceOf(e)) Object.assign(e, { service: where });
    throw e;
  });
}

/** `client` with every promise rejection annotated with `where`. */
function annotateClient<C extends object>(client: C, where: ServiceLocation): C {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise ? annotate(result, where) : result;
      };
    },
  });
}
