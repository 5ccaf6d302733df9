import type { ConnectFn } from '@minicloud/client';

export type { CloudClients, ConnectFn, ServiceType } from '@minicloud/client';

/** Anything the CLI writes to: process.stdout/stderr, or a string buffer in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal (progress bars are drawn only then). */
  isTTY?: boolean;
}

/**
 * Everything the CLI touches outside itself, injectable so `main(argv, io)` runs in-process in tests.
 * `env` plays the role of OS_* variables (MINICLOUD_URL, MINICLOUD_USER, MINICLOUD_PASSWORD,
 * MINICLOUD_PROJECT, MINICLOUD_CONFIG_DIR, MINICLOUD_CACERT: the CA file to verify the services with).
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
