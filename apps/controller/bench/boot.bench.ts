/**
 * End-to-end boot benchmark: `npx tsx apps/controller/bench/boot.bench.ts [vms] [agents] [hostsPerAgent] [concurrency] [waitSeconds]`
 * (defaults 1000 VMs, 4 agent processes x 25 simulated hosts = 100 hosts, 50 creates in flight,
 * give up waiting for ACTIVE after 300 s and print the figures of what settled).
 * Starts a whole cloud with tools/cloud/main.ts (own redis/nats, free ports, temp state dir, no
 * demo), lifts the admin project's quota, seeds a flavor (1 vCPU, 256 MB, 1 GB), a 16 MB qcow2 image and a network through the CLI,
 * then fires the creates through ComputeService (one server per request, `concurrency` at a time)
 * and waits for every server to be ACTIVE. Prints boots/s (VMs / (last launched_at - first
 * created_at)) and the p50/p99/max of create -> ACTIVE (launched_at - created_at, both stamped by the
 * controller). Stops the cloud at the end.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';

const ROOT = path.resolve(__dirname, '../../..');
const [vms, agents, hostsPerAgent, concurrency, waitSeconds] = [1000, 4, 25, 50, 300].map((d, i) => Number(process.argv[2 + i] ?? d));

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function startCloud(stateDir: string): Promise<ChildProcess> {
  const env = { ...process.env, HA_HOST_FAILURES_TO_TOLERATE: '0' };
  delete env.REDIS_URL;
  delete env.NATS_URL;
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', 'tools/cloud/main.ts', '--agents', String(agents), '--hosts-per-agent', String(hostsPerAgent), '--base-port', '0', '--no-demo', '--state-dir', stateDir, '--log-level', 'info'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cloud not ready:\n${tail.slice(-30).join('\n')}`)), 180_000);
    readline.createInterface({ input: child.stderr! }).on('line', (l) => tail.push(l));
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      tail.push(l);
      if (l.startsWith('minicloud ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (c) => reject(new Error(`cloud exited (${c}):\n${tail.slice(-30).join('\n')}`)));
  });
  return child;
}

async function main(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minicloud-bench-'));
  const cloud = await startCloud(stateDir);
  const manifest = JSON.parse(fs.readFileSync(path.join(stateDir, 'cloud.json'), 'utf8'));
  try {
    const cliEnv = {
      ...process.env,
      MINICLOUD_URL: manifest.identity_url,
      MINICLOUD_USER: manifest.admin.user,
      MINICLOUD_PASSWORD: manifest.admin.password,
      MINICLOUD_PROJECT: manifest.admin.project,
      MINICLOUD_CONFIG_DIR: path.join(stateDir, 'cli'),
    };
    const cli = (...args: string[]) => execFileSync(process.execPath, ['--require', 'tsx/cjs', 'apps/cli/src/main.ts', ...args], { cwd: ROOT, env: cliEnv, encoding: 'utf8' });
    const file = path.join(stateDir, 'bench.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '16M']);
    cli('login');
    // Identity's default quota (10 instances) would refuse most creates: lift it for this project.
    cli('quota', 'set', manifest.admin.project, '--instances', '-1', '--cores', '-1', '--ram', '-1');
    cli('flavor', 'create', 'b1.unit', '--vcpus', '1', '--ram', '256', '--disk', '1');
    const imageId = JSON.parse(cli('image', 'create', 'bench-img', '--file', file, '--disk-format', 'qcow2', '--public', '-f', 'json')).id;
    const networkId = JSON.parse(cli('network', 'create', 'bench-net', '--subnet-range', '10.64.0.0/20', '-f', 'json')).id;
    const token = JSON.parse(fs.readFileSync(path.join(stateDir, 'cli', 'credentials.json'), 'utf8')).token;
    const controller = manifest.processes.find((p: { name: string }) => p.name === 'controller');
    const c = createServiceClient(compute.ComputeServiceService, controller.grpc_address, { token: () => token, deadlineMs: 120_000 });

    const started = Date.now();
    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < vms) {
          const i = next++;
          try {
            await c.createServer({ name: `b-${i}`, flavorRef: 'b1.unit', imageRef: imageId, networks: [{ networkId }] });
          } catch (e) {
            failures.push(e instanceof Error ? e.message : String(e));
          }
        }
      }),
    );
    const acceptedSeconds = (Date.now() - started) / 1000;
    let servers: compute.Server[] = [];
    for (;;) {
      servers = [];
      let pageToken = '';
      do {
        const r = await c.listServers({ page: { pageSize: 1000, pageToken } });
        servers.push(...r.servers);
        pageToken = r.page?.nextPageToken ?? '';
      } while (pageToken);
      const settled = servers.filter((s) => s.vmState === compute.VmState.VM_STATE_ACTIVE || s.vmState === compute.VmState.VM_STATE_ERROR);
      if (settled.length === servers.length) break;
      if (Date.now() - started > waitSeconds * 1000) {
        console.log(`TIMEOUT: only ${settled.length}/${servers.length} settled after ${waitSeconds} s; figures below cover the ACTIVE ones`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const active = servers.filter((s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.launchedAt && s.createdAt);
    const lat = active.map((s) => s.launchedAt!.getTime() - s.createdAt!.getTime()).sort((a, b) => a - b);
    const first = Math.min(...active.map((s) => s.createdAt!.getTime()));
    const last = Math.max(...active.map((s) => s.launchedAt!.getTime()));
    console.log(`hosts=${agents * hostsPerAgent} (agents=${agents} x ${hostsPerAgent}) vms=${vms} concurrency=${concurrency}`);
    const errors = servers.filter((s) => s.vmState === compute.VmState.VM_STATE_ERROR);
    if (errors.length) console.log(`first fault: ${errors[0].fault?.code} ${errors[0].fault?.message}`);
    console.log(`accepted ${vms - failures.length} creates in ${acceptedSeconds.toFixed(1)} s; ACTIVE=${active.length} ERROR=${errors.length} pending=${servers.length - active.length - errors.length} refused=${failures.length}`);
    if (failures.length) console.log(`first refusal: ${failures[0]}`);
    console.log(`boots/s: ${(active.length / ((last - first) / 1000)).toFixed(1)} (first create -> last ACTIVE ${((last - first) / 1000).toFixed(1)} s)`);
    console.log(`create->ACTIVE ms: p50=${quantile(lat, 0.5)} p99=${quantile(lat, 0.99)} max=${lat[lat.length - 1]}`);
    c.close();
  } finally {
    // The bring-up stops its services, redis-server and nats-server on SIGTERM; wait for it (up to 20 s).
    const exited = new Promise((r) => (cloud.exitCode !== null ? r(null) : cloud.once('exit', r)));
    cloud.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    for (const p of manifest.processes) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (cloud.exitCode === null) cloud.kill('SIGKILL');
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
