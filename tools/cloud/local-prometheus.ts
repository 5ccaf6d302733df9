import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LocalServer } from './local-servers';

const DEPLOY_PROMETHEUS = path.resolve(__dirname, '../../deploy/prometheus');

/** A process the bring-up started, as far as scraping goes: its kind (scrape job) and metrics URL. */
export interface ScrapeTarget {
  name: string;
  kind: string;
  metrics_url: string;
}

/**
 * Writes a Prometheus set-up into `dir`: `prometheus.yml` (deploy/prometheus/prometheus-file-sd.yml),
 * `rules/` (a copy of deploy/prometheus/rules) and `targets/<job>.json` file_sd lists, one per job
 * (identity, image, volume, network, controller, elasticity, compute-agent, openstack-api), from `targets` (`kind` = job; each
 * target labelled `process=<name>`). Every job gets a file, empty when nothing of that kind runs.
 * With `opts.bearerTokenFile` (the file holding METRICS_BEARER_TOKEN), every job scrapes with
 * Prometheus' `authorization: { type: Bearer, credentials_file }`, which Prometheus re-reads at each
 * scrape, so a rotated token needs no Prometheus reload.
 * @returns the path of prometheus.yml
 */
export function writePrometheusConfig(dir: string, targets: ScrapeTarget[], opts: { bearerTokenFile?: string } = {}): string {
  fs.mkdirSync(path.join(dir, 'targets'), { recursive: true });
  fs.cpSync(path.join(DEPLOY_PROMETHEUS, 'rules'), path.join(dir, 'rules'), { recursive: true });
  const configFile = path.join(dir, 'prometheus.yml');
  const template = fs.readFileSync(path.join(DEPLOY_PROMETHEUS, 'prometheus-file-sd.yml'), 'utf8');
  // JSON's string syntax is YAML's double-quoted scalar, so any path is quoted safely.
  const authorization = opts.bearerTokenFile ? `\n    authorization: { type: Bearer, credentials_file: ${JSON.stringify(opts.bearerTokenFile)} }` : '';
  fs.writeFileSync(configFile, template.replace(/^(  - job_name: .+)$/gm, `$1${authorization}`));
  const jobs = ['identity', 'image', 'volume', 'network', 'controller', 'elasticity', 'compute-agent', 'openstack-api'];
  for (const job of new Set([...jobs, ...targets.map((t) => t.kind)])) {
    const groups = targets
      .filter((t) => t.kind === job)
      .map((t) => ({ targets: [new URL(t.metrics_url).host], labels: { process: t.name } }));
    // Write then rename: Prometheus watches these files and must never read half of one.
    const file = path.join(dir, 'targets', `${job}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  }
  return configFile;
}

/**
 * Starts the Debian `prometheus` binary with `configFile` (TSDB in `<dir of config>/data`, lifecycle
 * API on) listening on 127.0.0.1:`port`, and resolves once `/-/ready` answers 200 (15 s at most).
 * @throws Error naming the log file when prometheus is missing, exits, or is not ready in time
 */
export async function startLocalPrometheus(configFile: string, logDir: string, port: number): Promise<LocalServer> {
  const dir = path.dirname(configFile);
  const logFile = path.join(logDir, 'prometheus.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=2d',
    ],
    { stdio: ['ignore', out, out] },
  );
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    if (failed) throw new Error(`prometheus could not start (${failed.message}); run tools/setup.sh`);
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}; see ${logFile}`);
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus not ready on ${url} within 15 s; see ${logFile}`);
    }
  }
  return {
    name: 'prometheus',
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
