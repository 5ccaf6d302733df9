import fs from 'node:fs';
import path from 'node:path';
import { containerRuntime } from './container-runtime';
import { startContainerServer } from './container-server';
import { findFreePort } from './free-port';
import { startLocalServer } from './local-server';
import { makeOwnedTempDir } from './process-registry';
import { probeNats } from './readiness';
import { externalServerHandle, type NatsServerHandle } from './server-handle';

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** JetStream store dir (default: a fresh temp dir removed at process exit); kept across restart. */
  storeDir?: string;
  /**
   * nats-server configuration text (JSON is accepted), e.g. `{"authorization":{"users":[...]}}` with
   * per-user permissions: the server then requires authentication. Runs the local binary (the file
   * is written to a temp dir); NATS_URL is then ignored.
   */
  config?: string;
}

/** `-c <temp file>` holding `config` (removed at process exit), or nothing. */
function configArgs(config: string | undefined): string[] {
  if (config === undefined) return [];
  const file = path.join(makeOwnedTempDir('nats-conf'), 'nats.conf');
  fs.writeFileSync(file, config, { mode: 0o600 });
  return ['-c', file];
}

/** Image used when a container engine is reachable (same minor as the local nats-server 2.9). */
export const NATS_IMAGE = 'nats:2.9';

/**
 * Starts a NATS server with JetStream for a test suite and resolves once it sends its INFO banner.
 * In order: NATS_URL set -> a handle to that server (stop is a no-op; kill/pause/resume/restart throw
 * FailedPreconditionError "external server: cannot kill"...; options ignored); a container engine
 * reachable -> a `nats:2.9 -js` container; otherwise the local `nats-server -js -p P -sd DIR`.
 * The server is SIGKILLed when this process exits; call `stop()` in afterAll anyway.
 * @throws FailedPreconditionError when nats-server is missing or exits at start, DeadlineExceededError
 *   when it does not answer within 10 s; messages carry the server's output
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const external = process.env.NATS_URL;
  if (external && opts.config === undefined) return externalServerHandle(external, 4222);

  const tc = opts.config === undefined ? await containerRuntime() : undefined;
  if (tc) {
    return startContainerServer(tc, {
      image: NATS_IMAGE,
      command: ['-js', '-sd', '/data'],
      containerPort: 4222,
      scheme: 'nats',
      hostDataDir: opts.storeDir,
      probe: probeNats,
    });
  }
  const port = await findFreePort();
  const storeDir = opts.storeDir ?? makeOwnedTempDir('nats');
  return startLocalServer({
    command: 'nats-server',
    args: [...configArgs(opts.config), '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    port,
    url: `nats://127.0.0.1:${port}`,
    probe: probeNats,
  });
}
