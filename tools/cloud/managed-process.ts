import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/**
 * `node --cpu-prof` flags for a process named in MINICLOUD_CPU_PROF (comma-separated name prefixes,
 * e.g. `controller,network,identity`), writing node's `CPU.<date>.<time>.<pid>...cpuprofile` into
 * `<MINICLOUD_CPU_PROF_DIR>/<name>/` (default dir: the working directory) when the process exits; none when unset. For profiling runs
 * such as bench:boot.
 */
function cpuProfileFlags(name: string): string[] {
  const wanted = (process.env.MINICLOUD_CPU_PROF ?? '').split(',').filter(Boolean);
  if (!wanted.some((w) => name.startsWith(w))) return [];
  const dir = process.env.MINICLOUD_CPU_PROF_DIR ?? process.cwd();
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, name)}`];
}

/** What a minicloud service prints (one pino JSON line) once it serves. */
export interface ReadyInfo {
  /** Empty for a process that serves no gRPC (the OpenStack REST front). */
  grpc_address: string;
  metrics_url: string;
  /** Set by an HTTP service (the OpenStack REST front): its base URL. */
  http_url?: string;
}

/**
 * A minicloud process started by the bring-up: its output goes to `<logDir>/<name>.log`; `ready`
 * resolves on its "service ready" log line (or rejects when it exits first or times out).
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<ReadyInfo>;
  readonly exited: Promise<number | null>;
  readonly logFile: string;

  constructor(
    readonly name: string,
    entry: string,
    opts: { env: Record<string, string>; logDir: string; cwd: string; readyTimeoutMs?: number; args?: string[] },
  ) {
    this.logFile = path.join(opts.logDir, `${name}.log`);
    const log = fs.createWriteStream(this.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [...cpuProfileFlags(name), '--require', 'tsx/cjs', entry, ...(opts.args ?? [])], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.pipe(log);
    // The last lines the process wrote, so that a failure at start-up says why without opening the log
    // (a CI run's state dir is gone by the time anyone reads its output).
    const lastLines: string[] = [];
    const remember = (line: string) => {
      lastLines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (lastLines.length > 8) lastLines.shift();
    };
    readline.createInterface({ input: this.child.stderr! }).on('line', remember);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.ready = new Promise<ReadyInfo>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready within ${opts.readyTimeoutMs ?? 60_000} ms; see ${this.logFile}`)), opts.readyTimeoutMs ?? 60_000);
      const rl = readline.createInterface({ input: this.child.stdout! });
      rl.on('line', (line) => {
        log.write(line + '\n');
        remember(line);
        if (!line.includes('"service ready"')) return;
        try {
          const j = JSON.parse(line);
          clearTimeout(timer);
          resolve({ grpc_address: j.grpc_address ?? '', metrics_url: j.metrics_url, ...(j.http_url ? { http_url: j.http_url } : {}) });
        } catch {
          /* not JSON */
        }
      });
      this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with code ${code} before it was ready; see ${this.logFile}; its last lines:\n${lastLines.join('\n')}`));
      });
    });
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process has exited. */
  async stop(graceMs = 8000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
