import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface LocalServer {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function waitPort(port: number, child: ChildProcess, name: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${logFile}`);
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on ${port} within 15 s; see ${logFile}`);
}

function start(name: string, cmd: string, args: string[], logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  return spawn(cmd, args, { stdio: ['ignore', out, out] });
}

const stopper = (child: ChildProcess) => async () => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};

/**
 * Starts the bring-up's own `redis-server` (AOF on, appendfsync everysec, data in `dir`) on `port`,
 * for when no REDIS_URL is given. With `aclFile` its users come from that file (the bring-up's
 * disables the default user, so every client must authenticate); the URL returned carries no
 * credentials.
 */
export async function startLocalRedis(dir: string, logDir: string, port: number, opts: { aclFile?: string; /** Log file and server name; default "redis" (a second region's is "redis-RegionTwo"). */ name?: string } = {}): Promise<LocalServer> {
  fs.mkdirSync(dir, { recursive: true });
  const name = opts.name ?? 'redis';
  const logFile = path.join(logDir, `${name}.log`);
  const acl = opts.aclFile ? ['--aclfile', opts.aclFile] : [];
  const child = start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', ...acl], logFile);
  await waitPort(port, child, 'redis-server', logFile);
  return { name, url: `redis://127.0.0.1:${port}`, child, stop: stopper(child) };
}

/**
 * Starts the bring-up's own `nats-server -js` (store in `dir`) on `port`, for when no NATS_URL is
 * given. With `configFile` (users and permissions) every client must authenticate; the URL returned
 * carries no credentials.
 */
export async function startLocalNats(dir: string, logDir: string, port: number, opts: { configFile?: string; /** Log file and server name; default "nats". */ name?: string } = {}): Promise<LocalServer> {
  fs.mkdirSync(dir, { recursive: true });
  const name = opts.name ?? 'nats';
  const logFile = path.join(logDir, `${name}.log`);
  const conf = opts.configFile ? ['-c', opts.configFile] : [];
  const child = start('nats', 'nats-server', [...conf, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], logFile);
  await waitPort(port, child, 'nats-server', logFile);
  return { name, url: `nats://127.0.0.1:${port}`, child, stop: stopper(child) };
}
