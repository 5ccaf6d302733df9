import { spawn, type ChildProcess } from 'node:child_process';
import { DeadlineExceededError, FailedPreconditionError } from '@minicloud/domain-errors';
import type { Probe } from './readiness';
import type { ServerHandle } from './server-handle';
import { trackChild } from './process-registry';

/** How to run one local server binary. */
export interface LocalServerSpec {
  /** Name used in errors, e.g. "redis-server". */
  readonly command: string;
  /** Full argv after the command (port and data dir included, so restart reuses them). */
  readonly args: readonly string[];
  readonly port: number;
  readonly url: string;
  /** Answers true once the server serves clients. */
  readonly probe: Probe;
  /** Real ms to wait for readiness before failing (default 10000). */
  readonly readyTimeoutMs?: number;
}

/** Bytes of server output kept for error messages. */
const OUTPUT_TAIL_BYTES = 4000;
const PROBE_INTERVAL_MS = 20;

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class LocalServer implements ServerHandle {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private spawnError: Error | undefined;

  constructor(private readonly spec: LocalServerSpec) {}

  get url(): string {
    return this.spec.url;
  }
  get port(): number {
    return this.spec.port;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the binary and waits until the probe answers; on failure kills it and throws with its output. */
  async start(): Promise<void> {
    const { command, args } = this.spec;
    // A server that answers before ours is spawned belongs to someone else (the port was taken while
    // ours was down): readiness probes would otherwise take its answers for ours.
    if (await this.spec.probe('127.0.0.1', this.spec.port)) throw this.failure('cannot start: another process already serves the port');
    this.output = '';
    this.spawnError = undefined;
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let running = true;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (e) => {
        this.spawnError = e;
        resolve();
      });
    });
    void this.exited.then(() => (running = false));
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    trackChild(child);

    const timeoutMs = this.spec.readyTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!running) throw this.failure(`exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`);
      if (await this.spec.probe('127.0.0.1', this.spec.port)) return;
      await sleepMs(PROBE_INTERVAL_MS);
    }
    await this.kill('SIGKILL');
    throw new DeadlineExceededError(this.describe(`not ready after ${timeoutMs} ms`));
  }

  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.signalAndWait(signal);
  }

  pause(): void {
    this.signalRunning('SIGSTOP', 'pause');
  }

  resume(): void {
    this.signalRunning('SIGCONT', 'resume');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private isRunning(): boolean {
    const c = this.child;
    return !!c && c.exitCode === null && c.signalCode === null && !this.spawnError;
  }

  private signalRunning(signal: NodeJS.Signals, op: string): void {
    if (!this.isRunning()) throw new FailedPreconditionError(this.describe(`cannot ${op}: not running`), 'not_running');
    this.child!.kill(signal);
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    if (!this.isRunning()) return;
    const child = this.child!;
    child.kill(signal);
    // A stopped (SIGSTOP) process only acts on SIGTERM once continued; SIGKILL works regardless.
    if (signal !== 'SIGKILL' && signal !== 'SIGSTOP') child.kill('SIGCONT');
    await this.exited;
  }

  private failure(problem: string): Error {
    const cause = this.spawnError ? `: ${this.spawnError.message}` : '';
    return new FailedPreconditionError(this.describe(`${problem}${cause}`), 'server_start_failed');
  }

  private describe(problem: string): string {
    const tail = this.output.trim();
    return `${this.spec.command} on port ${this.spec.port} ${problem}${tail ? `\n--- server output ---\n${tail}` : ''}`;
  }
}

/**
 * Spawns a local server binary tracked for cleanup at process exit, waits until it answers and
 * returns its handle. `restart` respawns the same argv (same port and data dir).
 * @throws FailedPreconditionError (reason "server_start_failed") when the binary is missing or exits early,
 *   DeadlineExceededError when it does not answer in time; both messages include the server's output tail
 */
export async function startLocalServer(spec: LocalServerSpec): Promise<ServerHandle> {
  const server = new LocalServer(spec);
  await server.start();
  return server;
}
