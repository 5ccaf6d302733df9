import { FailedPreconditionError } from '@minicloud/domain-errors';

/**
 * A Redis or NATS server started for a test suite (or given by REDIS_URL / NATS_URL).
 * All waits are in real time; `kill`, `stop` and `restart` resolve once the process has exited / answers.
 */
export interface ServerHandle {
  /** Client URL, e.g. "redis://127.0.0.1:6379" or "nats://127.0.0.1:4222". */
  readonly url: string;
  /** Host port the server listens on (kept across `restart`). */
  readonly port: number;
  /** OS pid of the local server process (changes on `restart`); undefined for containers and external servers. */
  readonly pid?: number;
  /** Graceful stop (SIGTERM), resolves once the server has exited. No-op for an external server. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) and resolves once the server has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the server (SIGSTOP / container pause): connections stay open, nothing is answered. */
  pause(): void;
  /** Undoes {@link pause} (SIGCONT / container unpause). */
  resume(): void;
  /** Starts the server again on the same port and data dir (stopping it first if running), resolves when it answers. */
  restart(): Promise<void>;
}

/** Handle of a Redis server; see {@link ServerHandle}. */
export type RedisServerHandle = ServerHandle;
/** Handle of a NATS server with JetStream enabled; see {@link ServerHandle}. */
export type NatsServerHandle = ServerHandle;

/**
 * Handle for a server the test did not start (REDIS_URL / NATS_URL): `stop` is a no-op, every
 * process control throws FailedPreconditionError "external server: cannot <op>" (reason "external_server").
 * @param defaultPort port reported when the URL has none (6379 for redis, 4222 for nats)
 */
export function externalServerHandle(url: string, defaultPort: number): ServerHandle {
  const refuse = (op: string): never => {
    throw new FailedPreconditionError(`external server: cannot ${op} (${url})`, 'external_server');
  };
  const port = portOf(url, defaultPort);
  return {
    url,
    port,
    stop: async () => undefined,
    kill: async () => refuse('kill'),
    pause: () => refuse('pause'),
    resume: () => refuse('resume'),
    restart: async () => refuse('restart'),
  };
}

function portOf(url: string, defaultPort: number): number {
  try {
    // NATS_URL may be a comma-separated list; the first entry names the port we report.
    const first = url.split(',')[0].trim();
    const parsed = new URL(first.includes('://') ? first : `x://${first}`);
    return parsed.port ? Number(parsed.port) : defaultPort;
  } catch {
    return defaultPort;
  }
}
