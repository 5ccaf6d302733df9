/**
 * `npm run test:interop`: the OpenStack interoperability tests (tempest 33, Debian's package) against
 * a minicloud brought up for the run.
 *
 * Starts a cloud (tools/cloud/main.ts, free ports, its own Redis and NATS) unless `--cloud DIR`
 * names a running one, learns from its OpenStack REST front what tempest must be told (images,
 * flavors, the external network, Neutron extensions, microversions, compute hosts), writes
 * tempest.conf with dynamic credentials, runs the listed tests with `tempest run --include-list`,
 * and prints passes, skips and failures per API. Exits 1 when fewer than `--min` (default: all
 * listed) passed, or when any listed test was skipped and `--min` is the whole list.
 *
 * The default list is the 217 tests the interoperability guideline 2020.06 requires of an
 * "OpenStack Powered Compute" cloud (tools/interop/compute-2020.06-required.txt, from the
 * openstack/interop repository's 2020.06.json).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import type { CloudManifest } from '../cloud/manifest';
import { tempestConf, type CloudFacts } from './tempest-conf';
import { includeListFor, parseSubunitCsv, tally, type ApiTally } from './results';
import { learnCloudFacts } from './cloud-facts';
import { spawnCloud } from '../cloud/spawn-cloud';

const ROOT = path.resolve(__dirname, '../..');
const TEMPEST = '/usr/bin/tempest';

interface Options {
  list: string;
  regex?: string;
  concurrency: string;
  min?: string;
  cloud?: string;
  workDir: string;
  agents: string;
  controllers: string;
  apiReplicas: string;
  keepCloud: boolean;
  json?: string;
}

async function main(): Promise<void> {
  const opts = new Command('test:interop')
    .description('Run the OpenStack interop tempest tests against a minicloud')
    .option('--list <file>', 'tests to run, one id per line', path.join(__dirname, 'compute-2020.06-required.txt'))
    .option('--regex <re>', 'run every tempest test whose id matches instead of a list (e.g. "^tempest\\.api\\.(compute|identity|image|network|volume)")')
    .option('--concurrency <n>', 'tempest workers', '2')
    .option('--min <n>', 'fewest passes that succeed (default: every listed test, none skipped)')
    .option('--cloud <state-dir>', 'use the running cloud of this state dir instead of starting one')
    .option('--work-dir <dir>', 'tempest workspace and the cloud state', path.join(ROOT, '.minicloud-interop'))
    .option('--agents <n>', 'compute agents of the cloud it starts', '3')
    .option('--controllers <n>', 'controller replicas of the cloud it starts', '1')
    .option('--api-replicas <n>', 'OpenStack REST front replicas of the cloud it starts (more than one: behind the bring-up\'s TCP balancer, one address)', '1')
    .option('--keep-cloud', 'leave the cloud it started running', false)
    .option('--json <file>', 'also write the per-API table and the failed tests as JSON')
    .parse()
    .opts<Options>();

  if (!fs.existsSync(TEMPEST)) throw new Error(`${TEMPEST} not found: run tools/setup.sh (it installs Debian's tempest)`);
  const t0 = Date.now();
  const workDir = path.resolve(opts.workDir);
  const ws = path.join(workDir, 'tempest');
  fs.mkdirSync(workDir, { recursive: true });

  let stopCloud = async () => undefined as void;
  const stateDir = opts.cloud ? path.resolve(opts.cloud) : path.join(workDir, 'cloud');
  if (!opts.cloud) {
    // The guideline's image tests upload arbitrary bytes under a disk format's name (vhd, ami, ...);
    // Glance keeps such an upload when its operator turns require_image_format_match off, and the
    // image service offers the same setting.
    const shape = ['--agents', opts.agents, '--controllers', opts.controllers, '--api-replicas', opts.apiReplicas];
    const started = await spawnCloud(stateDir, [...shape, '--demo-servers', '0'], { IMAGE_REQUIRE_FORMAT_MATCH: 'false' });
    stopCloud = started.stop;
    console.log(`interop: cloud (${shape.join(' ')}) up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${stateDir})`);
  }
  const cleanups: (() => unknown)[] = [];
  const stop = async () => {
    for (const c of cleanups) c();
    if (!opts.keepCloud) await stopCloud();
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(stateDir, 'cloud.json'), 'utf8')) as CloudManifest;
    if (!manifest.openstack_api_url) throw new Error(`${stateDir}/cloud.json names no OpenStack REST front`);
    const facts: CloudFacts = await learnCloudFacts(manifest.openstack_api_url, { ...manifest.admin, domain: 'Default' }, manifest.tls?.ca_file);

    fs.rmSync(ws, { recursive: true, force: true });
    // tempest registers every workspace by name in ~/.tempest/workspace.yaml: a name of its own per run.
    const wsName = `minicloud-interop-${process.pid}-${Date.now()}`;
    run(TEMPEST, ['init', '--name', wsName, ws], ROOT);
    cleanups.push(() => spawnSync(TEMPEST, ['workspace', 'remove', '--name', wsName]));
    const conf = tempestConf(facts, { logDir: path.join(ws, 'logs'), lockDir: path.join(ws, 'lock') });
    fs.writeFileSync(path.join(ws, 'etc', 'tempest.conf'), conf, { mode: 0o600 });

    const listed = opts.regex ? listTests(ws, opts.regex) : readList(opts.list);
    const includeFile = path.join(ws, 'include-list.txt');
    fs.writeFileSync(includeFile, includeListFor(listed));
    const logFile = path.join(workDir, 'tempest-run.log');
    console.log(`interop: running ${listed.length} tests (tempest --concurrency ${opts.concurrency}); output in ${logFile}`);
    const tRun = Date.now();
    await runLogged(TEMPEST, ['run', '--include-list', includeFile, '--concurrency', opts.concurrency], ws, logFile);
    const runSeconds = (Date.now() - tRun) / 1000;

    const csv = spawnSync('bash', ['-c', 'stestr last --subunit | subunit2csv'], { cwd: ws, encoding: 'utf8', maxBuffer: 64 << 20 });
    const { rows, failedTests, skippedTests } = tally(listed, parseSubunitCsv(csv.stdout ?? ''));
    printTable(rows);
    const total = rows[rows.length - 1];
    if (failedTests.length) console.log(`failed:\n  ${failedTests.join('\n  ')}`);
    if (skippedTests.length) console.log(`skipped:\n  ${skippedTests.join('\n  ')}`);
    console.log(`interop: tempest ran in ${runSeconds.toFixed(0)} s; whole run ${((Date.now() - t0) / 1000).toFixed(0)} s; details: ${logFile}`);
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ rows, failedTests, skippedTests, runSeconds }, null, 2));

    const min = opts.min !== undefined ? Number(opts.min) : total.listed;
    const ok = total.passed >= min && (opts.min !== undefined || total.skipped === 0);
    console.log(ok ? `interop: ${total.passed}/${total.listed} passed (required ${min})` : `interop: FAILED: ${total.passed}/${total.listed} passed, ${total.skipped} skipped (required ${min}${opts.min === undefined ? ', none skipped' : ''})`);
    await stop();
    process.exit(ok ? 0 : 1);
  } catch (e) {
    console.error(`interop: ${(e as Error).message}`);
    await stop();
    process.exit(2);
  }
}

function readList(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** The ids tempest would run for `regex` (`tempest run --list-tests`), without attributes. */
function listTests(ws: string, regex: string): string[] {
  const r = spawnSync(TEMPEST, ['run', '--list-tests', '--regex', regex], { cwd: ws, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tempest run --list-tests failed: ${r.stderr}`);
  return [...new Set(r.stdout.split('\n').filter((l) => l.startsWith('tempest.')).map((l) => l.replace(/\[.*$/, '').trim()))];
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** Runs a command with its output appended to `logFile`; resolves with its exit code (tempest exits 1 on any failure). */
function runLogged(cmd: string, args: string[], cwd: string, logFile: string): Promise<number | null> {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', out, out] });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

function printTable(rows: ApiTally[]): void {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`${'API'.padEnd(10)}${pad('listed', 8)}${pad('passed', 8)}${pad('skipped', 9)}${pad('failed', 8)}`);
  for (const r of rows) console.log(`${r.api.padEnd(10)}${pad(r.listed, 8)}${pad(r.passed, 8)}${pad(r.skipped, 9)}${pad(r.failed, 8)}`);
}

void main();
