import fs from 'node:fs';
import path from 'node:path';
import { containerRuntime } from './container-runtime';
import { startContainerServer } from './container-server';
import { findFreePort } from './free-port';
import { startLocalServer } from './local-server';
import { makeOwnedTempDir } from './process-registry';
import { probeRedis } from './readiness';
import { externalServerHandle, type RedisServerHandle } from './server-handle';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Durable mode: AOF on with `appendfsync always`, so every acknowledged write survives kill -9 + restart. */
  appendOnly?: boolean;
  /** Data dir for the AOF (default: a fresh temp dir removed at process exit). Ignored without appendOnly locally. */
  dir?: string;
  /**
   * Redis 7 ACL file text (`user <name> on >password ~pattern +@category ...`): the server requires
   * authentication as these users (write `user default off` to refuse unauthenticated clients).
   * Runs the local binary (the file is written to a temp dir); REDIS_URL is then ignored.
   */
  acl?: string;
}

/** `--aclfile <temp file>` holding `acl` (removed at process exit), or nothing. */
function aclArgs(acl: string | undefined): string[] {
  if (acl === undefined) return [];
  const file = path.join(makeOwnedTempDir('redis-acl'), 'users.acl');
  fs.writeFileSync(file, acl, { mode: 0o600 });
  return ['--aclfile', file];
}

/** Image used when a container engine is reachable (same major as the local redis-server 7.0). */
export const REDIS_IMAGE = 'redis:7';

/**
 * Starts a Redis server for a test suite and resolves once it answers PING. In order:
 * REDIS_URL set -> a handle to that server (stop is a no-op; kill/pause/resume/restart throw
 * FailedPreconditionError "external server: cannot kill"...; options ignored); a container engine
 * reachable -> a `redis:7` container; otherwise the local `redis-server` binary on a free port
 * (`--save '' --appendonly no`, or `--appendonly yes --appendfsync always --dir D`).
 * The server is SIGKILLed when this process exits; call `stop()` in afterAll anyway.
 * @throws FailedPreconditionError when redis-server is missing or exits at start, DeadlineExceededError
 *   when it does not answer within 10 s; messages carry the server's output
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const external = process.env.REDIS_URL;
  if (external && opts.acl === undefined) return externalServerHandle(external, 6379);
  const persistence = (dir: string) =>
    opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : ['--appendonly', 'no'];

  const tc = opts.acl === undefined ? await containerRuntime() : undefined;
  if (tc) {
    return startContainerServer(tc, {
      image: REDIS_IMAGE,
      command: ['redis-server', '--save', '', ...persistence('/data')],
      containerPort: 6379,
      scheme: 'redis',
      hostDataDir: opts.dir,
      probe: probeRedis,
    });
  }
  const port = await findFreePort();
  const dir = opts.appendOnly ? (opts.dir ?? makeOwnedTempDir('redis')) : '';
  return startLocalServer({
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence(dir), ...aclArgs(opts.acl)],
    port,
    url: `redis://127.0.0.1:${port}`,
    probe: probeRedis,
  });
}
