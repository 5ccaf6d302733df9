import type { ServiceClient } from '@minicloud/platform-grpc';
import type { compute, identity, image, network, volume } from '@minicloud/proto';

/** Anything the CLI writes to: process.stdout/stderr, or a string buffer in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal (progress bars are drawn only then). */
  isTTY?: boolean;
}

/** Promise clients of the five public APIs, keyed by catalog service type. */
export interface CloudClients {
  identity: ServiceClient<typeof identity.IdentityServiceService>;
  image: ServiceClient<typeof image.ImageServiceService>;
  volume: ServiceClient<typeof volume.VolumeServiceService>;
  network: ServiceClient<typeof network.NetworkServiceService>;
  compute: ServiceClient<typeof compute.ComputeServiceService>;
}

/** A catalog service type: identity, image, volume, network, compute. */
export type ServiceType = keyof CloudClients;

/**
 * Creates the client of one service at `address` (host:port); `token` supplies the bearer token per
 * call. The default is `createServiceClient` from @minicloud/platform-grpc; tests pass fakes.
 */
export type ConnectFn = <K extends ServiceType>(type: K, address: string, token: () => string | undefined) => CloudClients[K];

/**
 * Everything the CLI touches outside itself, injectable so `main(argv, io)` runs in-process in tests.
 * `env` plays the role of OS_* variables (MINICLOUD_URL, MINICLOUD_USER, MINICLOUD_PASSWORD,
 * MINICLOUD_PROJECT, MINICLOUD_CONFIG_DIR).
 */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  connect?: ConnectFn;
  /** Wall clock in ms since the epoch (token expiry, --timeout); default Date.now. */
  now?: () => number;
  /** Waits `ms` milliseconds (poll interval of --wait); default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Home directory holding `.minicloud/` when MINICLOUD_CONFIG_DIR is unset; default os.homedir(). */
  homeDir?: string;
}
