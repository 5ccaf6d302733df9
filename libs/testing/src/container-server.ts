import { DeadlineExceededError } from '@minicloud/domain-errors';
import type { TestcontainersModule } from './container-runtime';
import { findFreePort } from './free-port';
import type { Probe } from './readiness';
import type { ServerHandle } from './server-handle';

/** How to run one server image. */
export interface ContainerServerSpec {
  /** Image reference, e.g. "redis:7". */
  readonly image: string;
  readonly command: readonly string[];
  /** Port the server listens on inside the container. */
  readonly containerPort: number;
  /** URL scheme: "redis" or "nats". */
  readonly scheme: string;
  /** Host dir mounted at /data (the image must be able to write it); none keeps data in the container. */
  readonly hostDataDir?: string;
  readonly probe: Probe;
  /** Real ms to wait for readiness after a restart (default 30000). */
  readonly readyTimeoutMs?: number;
}

/** The dockerode container calls we need (typed here to avoid a direct dockerode dependency). */
interface DockerContainer {
  kill(opts: { signal: string }): Promise<unknown>;
  pause(): Promise<unknown>;
  unpause(): Promise<unknown>;
  start(): Promise<unknown>;
  wait(): Promise<unknown>;
  inspect(): Promise<{ State: { Running: boolean; Paused: boolean } }>;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts `spec.image` with the server port bound to a fixed free host port (so `restart` keeps the
 * URL) and returns its handle. pause/resume return at once and run in the background; the next
 * awaited call (stop/kill/restart) waits for them. Containers left running are removed by the
 * testcontainers reaper (Ryuk) when this process ends.
 */
export async function startContainerServer(tc: TestcontainersModule, spec: ContainerServerSpec): Promise<ServerHandle> {
  const hostPort = await findFreePort();
  let builder = new tc.GenericContainer(spec.image)
    .withCommand([...spec.command])
    .withExposedPorts({ container: spec.containerPort, host: hostPort });
  if (spec.hostDataDir) builder = builder.withBindMounts([{ source: spec.hostDataDir, target: '/data', mode: 'rw' }]);
  const started = await builder.start();
  const host = started.getHost();
  const client = await tc.getContainerRuntimeClient();
  const docker = client.container.getById(started.getId()) as unknown as DockerContainer;
  let pending: Promise<unknown> = Promise.resolve();
  const queue = (op: () => Promise<unknown>) => (pending = pending.then(op, op));

  const waitReady = async () => {
    const timeoutMs = spec.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await spec.probe(host, hostPort)) return;
      await sleepMs(50);
    }
    throw new DeadlineExceededError(`${spec.image} on ${host}:${hostPort} not ready ${timeoutMs} ms after restart`);
  };
  const state = async () => (await docker.inspect()).State;
  const killAndWait = async (signal: string) => {
    const s = await state();
    if (!s.Running) return;
    if (s.Paused) await docker.unpause();
    await docker.kill({ signal });
    await docker.wait();
  };

  await waitReady();
  return {
    url: `${spec.scheme}://${host}:${hostPort}`,
    port: hostPort,
    stop: async () => void (await queue(() => killAndWait('SIGTERM'))),
    kill: async (signal = 'SIGKILL') => void (await queue(() => killAndWait(signal))),
    pause: () => void queue(() => docker.pause()).catch(() => undefined),
    resume: () => void queue(() => docker.unpause()).catch(() => undefined),
    restart: async () => {
      await queue(async () => {
        await killAndWait('SIGTERM');
        await docker.start();
        await waitReady();
      });
    },
  };
}

