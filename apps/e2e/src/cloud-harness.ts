import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Agent, fetch as undiciFetch } from 'undici';
import type { CloudManifest } from '../../../tools/cloud/manifest';
import { RunnerPool, type CliResult } from './runner-pool';

export const ROOT = path.resolve(__dirname, '../../..');

export type { CloudManifest };

/** A cloud started by the README's own bring-up command, in a temp state dir on free ports. */
export interface RunningCloud {
  /** The current run's manifest (a restart replaces it: new ports and pids). */
  readonly manifest: CloudManifest;
  stateDir: string;
  /** Date.now() when the current run printed "minicloud ready". */
  readonly readyAtMs: number;
  /** Runs the `minicloud` CLI as a process, logged in as admin (env credentials). */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** {@link cli} that must succeed: its stdout; throws naming the command, exit code and stderr otherwise. */
  run(args: string[], env?: Record<string, string>): Promise<string>;
  /** {@link run} with `-f json`, parsed. */
  json<T = any>(args: string[], env?: Record<string, string>): Promise<T>;
  /**
   * Stops the whole cloud as Ctrl-C does and brings it up again with `--keep-state` in the same state
   * dir (the bring-up's other arguments as before; `env` replaces the extra environment of the
   * processes). Resolves when the new run is ready.
   */
  restart(opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export type { CliResult };

/** One run of tools/cloud/main.ts, up to its "minicloud ready" line. */
interface BringUp {
  child: ChildProcess;
  exited: Promise<number | null>;
  manifest: CloudManifest;
  readyAtMs: number;
}

/** Starts the bring-up with `args` and resolves when it prints "minicloud ready"; rejects with the tail of its output. */
async function bringUp(args: string[], env: Record<string, string>, stateDir: string, timeoutMs: number): Promise<BringUp> {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete fullEnv.REDIS_URL;
  delete fullEnv.NATS_URL;
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', 'tools/cloud/main.ts', ...args], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const readyAtMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cloud not ready in time:\n${output.slice(-40).join('\n')}`)), timeoutMs);
    readline.createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      output.push(l);
      if (l.startsWith('minicloud ready')) {
        clearTimeout(timer);
        resolve(Date.now());
      }
    });
    exited.then((c) => {
      clearTimeout(timer);
      reject(new Error(`cloud exited (${c}) before ready:\n${output.slice(-40).join('\n')}`));
    });
  });
  const manifest = JSON.parse(fs.readFileSync(path.join(stateDir, 'cloud.json'), 'utf8')) as CloudManifest;
  return { child, exited, manifest, readyAtMs };
}

/**
 * Makes this test process trust the CA of a cloud brought up with TLS, as an operator's shell does
 * with the printed exports: gRPC clients of @minicloud/platform-grpc read TLS_CA_FILE, the CLI gets
 * MINICLOUD_CACERT, and fetch() (the REST front over HTTPS) verifies with the CA. fetch is replaced
 * by undici's with a dispatcher holding the CA, since Node's own fetch reads its global dispatcher
 * from the process's global object, which a Jest test's sandbox does not reach. Returns the undo,
 * run when the cloud stops.
 */
function trustCloudCa(caFile: string): () => void {
  const before = { env: process.env.TLS_CA_FILE, fetch: globalThis.fetch };
  process.env.TLS_CA_FILE = caFile;
  const dispatcher = new Agent({ connect: { ca: fs.readFileSync(caFile) } });
  globalThis.fetch = ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
  return () => {
    if (before.env === undefined) delete process.env.TLS_CA_FILE;
    else process.env.TLS_CA_FILE = before.env;
    globalThis.fetch = before.fetch;
    void dispatcher.close();
  };
}

/** SIGTERM to the bring-up (it stops every process in order), then SIGKILL to anything left of that run. */
async function shutDown(run: BringUp): Promise<void> {
  if (run.child.exitCode === null) {
    run.child.kill('SIGTERM');
    const t = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    await run.exited;
    clearTimeout(t);
  }
  // Kill anything the bring-up could not stop (never leave processes behind).
  for (const pid of [...run.manifest.processes.map((p) => p.pid), ...(run.manifest.prometheus_pid ? [run.manifest.prometheus_pid] : [])]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/**
 * Starts `tools/cloud/main.ts --base-port 0 --no-demo` (its own redis-server and nats-server; `demo`
 * keeps the demo seed, `extraArgs` go to the bring-up, e.g. `--with-prometheus`) and
 * resolves when it prints "minicloud ready". Rejects with the tail of its output when it fails.
 */
export async function startCloud(
  opts: { agents?: number; timeoutMs?: number; extraArgs?: string[]; demo?: boolean; controllers?: number; apiReplicas?: number; env?: Record<string, string> } = {},
): Promise<RunningCloud> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minicloud-e2e-'));
  const args = ['--base-port', '0', ...(opts.demo ? [] : ['--no-demo']), '--state-dir', stateDir, '--agents', String(opts.agents ?? 3), '--log-level', 'info', ...(opts.controllers ? ['--controllers', String(opts.controllers)] : []), ...(opts.apiReplicas ? ['--api-replicas', String(opts.apiReplicas)] : []), ...(opts.extraArgs ?? [])];
  let run = await bringUp(args, opts.env ?? {}, stateDir, opts.timeoutMs ?? 120_000);
  // The CA is kept across restarts (--keep-state), so trusting it once serves every run.
  const untrust = run.manifest.tls ? trustCloudCa(run.manifest.tls.ca_file) : () => undefined;
  const cliConfigDir = path.join(stateDir, 'cli');
  const cli = (cliArgs: string[], extraEnv: Record<string, string> = {}) =>
    runCli(cliArgs, {
      MINICLOUD_URL: run.manifest.identity_url,
      MINICLOUD_USER: run.manifest.admin.user,
      MINICLOUD_PASSWORD: run.manifest.admin.password,
      MINICLOUD_PROJECT: run.manifest.admin.project,
      MINICLOUD_CONFIG_DIR: cliConfigDir,
      ...(run.manifest.tls ? { MINICLOUD_CACERT: run.manifest.tls.ca_file } : {}),
      ...extraEnv,
    });
  const ok = async (cliArgs: string[], extraEnv?: Record<string, string>) => {
    const r = await cli(cliArgs, extraEnv);
    if (r.code !== 0) throw new Error(`minicloud ${cliArgs.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  return {
    get manifest() {
      return run.manifest;
    },
    get readyAtMs() {
      return run.readyAtMs;
    },
    stateDir,
    cli,
    run: ok,
    json: async (cliArgs, extraEnv) => JSON.parse(await ok([...cliArgs, '-f', 'json'], extraEnv)),
    async restart(o = {}) {
      await shutDown(run);
      run = await bringUp([...args, '--keep-state'], o.env ?? opts.env ?? {}, stateDir, o.timeoutMs ?? opts.timeoutMs ?? 120_000);
    },
    async stop() {
      await shutDown(run);
      untrust();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The usual seed of a test cloud, through the CLI (logged in): flavor m1.tiny (1 vCPU, 512 MB, 1 GB),
 * a public qcow2 image `cirros` of `imageVirtualSize` (default 64M) made with qemu-img, and a network
 * `network` with one subnet `cidr` (`shared` for every project).
 * @returns the image's and the network's ids
 */
export async function seedTinyCloud(cloud: RunningCloud, o: { network: string; cidr: string; shared?: boolean; imageVirtualSize?: string }): Promise<{ imageId: string; networkId: string }> {
  await cloud.run(['flavor', 'create', 'm1.tiny', '--vcpus', '1', '--ram', '512', '--disk', '1']);
  const file = path.join(cloud.stateDir, 'cirros.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, o.imageVirtualSize ?? '64M']);
  const image = await cloud.json(['image', 'create', 'cirros', '--file', file, '--disk-format', 'qcow2', '--public']);
  const network = await cloud.json(['network', 'create', o.network, '--subnet-range', o.cidr, ...(o.shared ? ['--shared'] : [])]);
  return { imageId: image.id, networkId: network.id };
}

/** The CLI's entry module: what the `minicloud` executable (apps/cli/src/bin.js) runs. */
const CLI_ENTRY = path.join(ROOT, 'apps/cli/src/main.ts');
let cliRunners: RunnerPool | undefined;
// Jest loads this module afresh for each suite file, as the file's imports run: the runners of
// that file end with it. (Hooks cannot be added once the tests run, so this is at module level.)
if (typeof afterAll === 'function') afterAll(() => cliRunners?.close());

/**
 * Runs the `minicloud` CLI with `env` added to this process's environment: its entry's `main` in a
 * reused runner process (apps/e2e/src/cli-runner.ts), so a suite pays Node's start-up and the CLI's
 * module loading once rather than at every call. The runners end with the suite.
 */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  if (!cliRunners) {
    cliRunners = new RunnerPool(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'cli-runner.ts'), CLI_ENTRY], { cwd: ROOT });
  }
  const full: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) full[k] = v;
  return cliRunners.call({ args, env: full });
}

/**
 * Fetches a process's Prometheus text, with `bearerToken` (the manifest's `metrics_bearer_token`)
 * as Prometheus sends it.
 * @throws Error when /metrics does not answer 200 (e.g. 401 without the token)
 */
export async function scrape(metricsUrl: string, bearerToken?: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`, { headers: bearerToken ? { authorization: `Bearer ${bearerToken}` } : {} });
  if (!res.ok) throw new Error(`${metricsUrl}/metrics answered ${res.status}`);
  return res.text();
}

/** Sum of the samples of `metric` whose labels include all of `labels`. */
export function sampleSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([^\s]+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const lbl = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => lbl.includes(`${k}="${v}"`))) {
      sum += Number(m[3]);
      seen = true;
    }
  }
  return seen ? sum : NaN;
}
