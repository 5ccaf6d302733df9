import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';

/** What one CLI invocation gave: its exit code and everything it wrote to stdout and stderr. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One long-lived runner process speaking JSON lines: a request object per line on its stdin, a
 * {@link CliResult} per line on its stdout, one request at a time. While idle it does not keep
 * the test process alive (child and pipes unref'd), so a suite that forgets to close it still ends.
 */
class Runner {
  private pending: ((r: CliResult) => void) | undefined;
  private stderrTail = '';
  exited = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const done = this.pending;
      this.pending = undefined;
      this.setRef(false);
      done?.(JSON.parse(line) as CliResult);
    });
    child.stderr.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    child.on('exit', (code) => {
      this.exited = true;
      const done = this.pending;
      this.pending = undefined;
      done?.({ code: code ?? -1, stdout: '', stderr: `runner exited (${code}) during the call: ${this.stderrTail}` });
    });
    this.setRef(false);
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  call(request: object): Promise<CliResult> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.setRef(true);
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }

  private setRef(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as Array<{ ref?(): void; unref?(): void }>) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }
}

/**
 * Runner processes for a CLI, reused call after call: a call takes an idle runner or starts one, so
 * concurrent calls run in parallel processes and sequential ones pay the start-up (interpreter,
 * module loading) once. `command`/`args` start a runner (e.g. the openstack runner script).
 */
export class RunnerPool {
  private readonly runners: Runner[] = [];

  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {}

  /** Runs one invocation described by `request` (the runner's own request shape). */
  async call(request: object): Promise<CliResult> {
    for (let i = this.runners.length - 1; i >= 0; i--) if (this.runners[i].exited) this.runners.splice(i, 1);
    let r = this.runners.find((x) => !x.busy);
    if (!r) {
      r = new Runner(spawn(this.command, this.args, { cwd: this.opts.cwd, env: this.opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] }));
      this.runners.push(r);
    }
    return r.call(request);
  }

  /** Ends every runner (idempotent). */
  close(): void {
    for (const r of this.runners.splice(0)) r.close();
  }
}
