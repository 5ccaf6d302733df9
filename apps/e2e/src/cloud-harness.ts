import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const ROOT = path.resolve(__dirname, '../../..');

/** The bring-up's manifest (tools/cloud/main.ts `CloudManifest`). */
export interface CloudManifest {
  redis_url: string;
  nats_url: string;
  identity_url: string;
  admin: { user: string; password: string; project: string };
  processes: { name: string; kind: string; pid: number; grpc_address: string; metrics_url: string; log: string; host_ids?: string[] }[];
  ready_seconds: number;
  /** The OpenStack REST front's base URL and the clouds.yaml pointing at it (clouds minicloud, minicloud-demo). */
  openstack_api_url?: string;
  clouds_yaml?: string;
  /** With `--with-prometheus`: the local Prometheus scraping every process. */
  prometheus_url?: string;
  prometheus_pid?: number;
}

/** A cloud started by the README's own bring-up command, in a temp state dir on free ports. */
export interface RunningCloud {
  manifest: CloudManifest;
  stateDir: string;
  /** Runs the `minicloud` CLI as a process, logged in as admin (env credentials). */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  stop(): Promise<void>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Starts `tools/cloud/main.ts --base-port 0 --no-demo` (its own redis-server and nats-server; `demo`
 * keeps the demo seed, `extraArgs` go to the bring-up, e.g. `--with-prometheus`) and
 * resolves when it prints "minicloud ready". Rejects with the tail of its output when it fails.
 */
export async function startCloud(
  opts: { agents?: number; timeoutMs?: number; extraArgs?: string[]; demo?: boolean; controllers?: number; env?: Record<string, string> } = {},
): Promise<RunningCloud> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minicloud-e2e-'));
  const env = { ...process.env, ...(opts.env ?? {}) };
  delete env.REDIS_URL;
  delete env.NATS_URL;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', 'tools/cloud/main.ts', '--base-port', '0', ...(opts.demo ? [] : ['--no-demo']), '--state-dir', stateDir, '--agents', String(opts.agents ?? 3), '--log-level', 'info', ...(opts.controllers ? ['--controllers', String(opts.controllers)] : []), ...(opts.extraArgs ?? [])],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cloud not ready in time:\n${output.slice(-40).join('\n')}`)), opts.timeoutMs ?? 120_000);
    readline.createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      output.push(l);
      if (l.startsWith('minicloud ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    exited.then((c) => {
      clearTimeout(timer);
      reject(new Error(`cloud exited (${c}) before ready:\n${output.slice(-40).join('\n')}`));
    });
  });
  const manifest = JSON.parse(fs.readFileSync(path.join(stateDir, 'cloud.json'), 'utf8')) as CloudManifest;
  const cliConfigDir = path.join(stateDir, 'cli');
  return {
    manifest,
    stateDir,
    cli: (args, extraEnv = {}) =>
      runCli(args, {
        MINICLOUD_URL: manifest.identity_url,
        MINICLOUD_USER: manifest.admin.user,
        MINICLOUD_PASSWORD: manifest.admin.password,
        MINICLOUD_PROJECT: manifest.admin.project,
        MINICLOUD_CONFIG_DIR: cliConfigDir,
        ...extraEnv,
      }),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      }
      // Kill anything the bring-up could not stop (never leave processes behind).
      for (const pid of [...manifest.processes.map((p) => p.pid), ...(manifest.prometheus_pid ? [manifest.prometheus_pid] : [])]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI as its own process. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'apps/cli/src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Fetches a process's Prometheus text. */
export async function scrape(metricsUrl: string): Promise<string> {
  return (await fetch(`${metricsUrl}/metrics`)).text();
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
