/**
 * `npm run cloud`: brings up a whole minicloud on this machine as processes — Redis and NATS (the
 * URLs in REDIS_URL/NATS_URL when set, else its own redis-server and nats-server), identity, image,
 * volume, network, the controller and N compute agents — seeds a demo, prints where everything is,
 * and runs until Ctrl-C, then shuts everything down in reverse order.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import Table from 'cli-table3';
import { compute } from '@minicloud/proto';
import { ManagedProcess, type ReadyInfo } from './managed-process';
import { freePort, startLocalNats, startLocalRedis, type LocalServer } from './local-servers';
import { adminSession, seedDemo, waitForHosts, type DemoResult } from './seed';
import { startLocalPrometheus, writePrometheusConfig } from './local-prometheus';
import type { CloudManifest } from './manifest';
import { writeCloudsYaml, type CloudEntry } from './clouds-yaml';

const ROOT = path.resolve(__dirname, '../..');

interface Options {
  agents: string;
  controllers: string;
  hostsPerAgent: string;
  basePort: string;
  stateDir: string;
  demo: boolean;
  demoServers: string;
  logLevel: string;
  keepState: boolean;
  exitWhenReady: boolean;
  timeScale: string;
  hostProfile: string;
  withPrometheus: boolean;
  prometheusPort: string;
}

export type { CloudManifest };

async function main() {
  const program = new Command('cloud')
    .description('Bring up a whole minicloud on this machine')
    .option('--agents <n>', 'compute agent processes (each one simulated host unless --hosts-per-agent)', '3')
    .option('--controllers <n>', 'controller replicas (any one serves the API and schedules; one leader runs the HA loops; clients fail over between them)', '1')
    .option('--hosts-per-agent <n>', 'simulated hosts per agent process (a rack)', '1')
    .option('--base-port <port>', 'first gRPC port (identity 5000, image +1, volume +2, network +3, controller +4, agents +100.., OpenStack REST API +80); 0 picks free ports', '5000')
    .option('--state-dir <dir>', 'logs, data and cloud.json', path.join(ROOT, '.minicloud'))
    .option('--no-demo', 'do not seed the demo project, image, network and servers')
    .option('--demo-servers <n>', 'servers the demo boots', '3')
    .option('--log-level <level>', 'service log level', 'info')
    .option(
      '--keep-state',
      'keep Redis/NATS/image data of a previous run (default: start fresh); the agents come back as the same hosts holding no VMs, and the power sync shows their servers SHUTOFF (or starts them again with RESUME_GUESTS_STATE_ON_HOST_BOOT=true)',
      false,
    )
    .option('--exit-when-ready', 'shut down as soon as the cloud is up and seeded (timing, smoke tests)', false)
    .option('--time-scale <x>', 'simulated time runs x times faster than real time', '1')
    .option(
      '--host-profile <name>',
      'host profile of every agent (libs/domain/hypervisor host-profile catalog), or "mixed" to rotate through the catalog',
      'std-2s32c-256g',
    )
    .option('--with-prometheus', 'also start a local prometheus (Debian package) scraping every process, with the rules of deploy/prometheus', false)
    .option('--prometheus-port <port>', 'port of the local prometheus (with --with-prometheus); 0 picks a free one; default base port + 4090');
  program.parse();
  const opts = program.opts<Options>();
  const t0 = Date.now();
  const stateDir = path.resolve(opts.stateDir);
  const logDir = path.join(stateDir, 'logs');
  if (!opts.keepState) {
    for (const d of ['redis', 'nats', 'image', 'agents', 'prometheus']) fs.rmSync(path.join(stateDir, d), { recursive: true, force: true });
  }
  fs.mkdirSync(logDir, { recursive: true });
  const basePort = Number(opts.basePort);
  const port = async (offset: number) => (basePort === 0 ? freePort() : basePort + offset);

  const infra: LocalServer[] = [];
  const procs: ManagedProcess[] = [];
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log('\nminicloud: shutting down...');
    const order = ['openstack-api', 'agent', 'controller', 'network', 'volume', 'image', 'identity'];
    for (const prefix of order) await Promise.all(procs.filter((p) => p.name.startsWith(prefix)).map((p) => p.stop()));
    for (const s of infra.reverse()) await s.stop();
    console.log('minicloud: stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const redisUrl = process.env.REDIS_URL ?? (await startAndTrack(infra, async () => startLocalRedis(path.join(stateDir, 'redis'), logDir, basePort === 0 ? await freePort() : basePort + 379))).url;
    const natsUrl = process.env.NATS_URL ?? (await startAndTrack(infra, async () => startLocalNats(path.join(stateDir, 'nats'), logDir, basePort === 0 ? await freePort() : basePort + 422))).url;
    const servicePassword = randomBytes(18).toString('base64url');
    const common = {
      REDIS_URL: redisUrl,
      NATS_URL: natsUrl,
      LOG_LEVEL: opts.logLevel,
      SERVICE_PASSWORD: servicePassword,
      ADMIN_PASSWORD: 'admin',
      TIME_SCALE: opts.timeScale,
    };
    const launch = async (name: string, app: string, offset: number, env: Record<string, string> = {}) => {
      const p = new ManagedProcess(name, path.join(ROOT, 'apps', app, 'src/main.ts'), {
        cwd: ROOT,
        logDir,
        env: { ...common, GRPC_PORT: String(await port(offset)), METRICS_PORT: String(await port(offset + 4100)), ...env },
      });
      procs.push(p);
      return p;
    };

    // Controller replicas (--controllers N): any serves the API and schedules in its request path, one
    // leader runs the HA/resync/DRS loops; each adds its endpoint to the catalog (newest first).
    const launchControllers = async () => {
      const n = Math.max(1, Number(opts.controllers));
      const first = await launch('controller', 'controller', 4, withIdentity);
      const more = await Promise.all(Array.from({ length: n - 1 }, (_, i) => launch(`controller-${i + 2}`, 'controller', 60 + i, withIdentity)));
      return [first, ...more];
    };
    const identity = await launch('identity', 'identity', 0);
    const identityInfo = await identity.ready;
    const withIdentity = { IDENTITY_URL: identityInfo.grpc_address };
    const services = await Promise.all([
      launch('image', 'image', 1, { ...withIdentity, IMAGE_DATA_DIR: path.join(stateDir, 'image') }),
      launch('volume', 'volume', 2, withIdentity),
      launch('network', 'network', 3, withIdentity),
      ...(await launchControllers()),
    ]);
    await Promise.all(services.map((s) => s.ready));

    const agentCount = Number(opts.agents);
    const hostsPerAgent = Number(opts.hostsPerAgent);
    const agents: { proc: ManagedProcess; hostIds: string[] }[] = [];
    for (let i = 1; i <= agentCount; i++) {
      const hostId = `host-${i}`;
      const hostIds = hostsPerAgent > 1 ? Array.from({ length: hostsPerAgent }, (_, j) => `${hostId}-${j + 1}`) : [hostId];
      const proc = await launch(`agent-${i}`, 'compute-agent', 100 + i - 1, {
        ...withIdentity,
        HOST_ID: hostId,
        AGENT_HOSTS: String(hostsPerAgent),
        ...(opts.hostProfile === 'mixed' ? { HOST_PROFILE_INDEX: String(i - 1) } : { HOST_PROFILE: opts.hostProfile }),
        TUNNEL_IP: `127.0.1.${i}`,
        AGENT_STATE_DIR: path.join(stateDir, 'agents', hostId),
      });
      agents.push({ proc, hostIds });
    }
    await Promise.all(agents.map((a) => a.proc.ready));
    // The OpenStack REST front (one HTTP port, devstack's path prefixes), base port + 80.
    const openstackApi = await launch('openstack-api', 'openstack-api', 80, { ...withIdentity, HTTP_PORT: String(await port(80)) });
    const openstackApiUrl = (await openstackApi.ready).http_url!;

    const admin = await adminSession(identityInfo.grpc_address, 'admin', 'admin', 'admin');
    await waitForHosts(admin, agentCount * hostsPerAgent, 30_000, t0);
    const manifest: CloudManifest = {
      redis_url: redisUrl,
      nats_url: natsUrl,
      identity_url: identityInfo.grpc_address,
      admin: { user: 'admin', password: 'admin', project: 'admin' },
      processes: await Promise.all(
        procs.map(async (p) => {
          const info: ReadyInfo = await p.ready;
          const agent = agents.find((a) => a.proc === p);
          return {
            name: p.name,
            kind: agent ? 'compute-agent' : p.name.startsWith('controller') ? 'controller' : p.name,
            pid: p.pid ?? 0,
            grpc_address: info.grpc_address,
            metrics_url: info.metrics_url,
            ...(info.http_url ? { http_url: info.http_url } : {}),
            log: p.logFile,
            ...(agent ? { host_ids: agent.hostIds } : {}),
          };
        }),
      ),
      ready_seconds: 0,
    };
    if (opts.withPrometheus) {
      const promPort = opts.prometheusPort !== undefined ? Number(opts.prometheusPort) : basePort === 0 ? 0 : basePort + 4090;
      const configFile = writePrometheusConfig(path.join(stateDir, 'prometheus'), manifest.processes);
      const prom = await startAndTrack(infra, async () => startLocalPrometheus(configFile, logDir, promPort === 0 ? await freePort() : promPort));
      manifest.prometheus_url = prom.url;
      manifest.prometheus_pid = prom.child.pid;
    }
    let demo: DemoResult | undefined;
    if (opts.demo) demo = await seedDemo(admin, { imageDir: path.join(stateDir, 'demo'), servers: Number(opts.demoServers) });
    const clouds: CloudEntry[] = [{ name: 'minicloud', user: 'admin', password: 'admin', project: 'admin' }];
    if (demo) clouds.push({ name: 'minicloud-demo', user: 'demo', password: 'demo', project: 'demo' });
    manifest.openstack_api_url = openstackApiUrl;
    manifest.clouds_yaml = writeCloudsYaml(stateDir, openstackApiUrl, 'RegionOne', clouds);
    manifest.ready_seconds = (Date.now() - t0) / 1000;
    fs.writeFileSync(path.join(stateDir, 'cloud.json'), JSON.stringify(manifest, null, 2));
    await printSummary(admin, manifest, demo);
    if (manifest.prometheus_url) console.log(`Prometheus: ${manifest.prometheus_url} (config and rules: ${path.join(stateDir, 'prometheus')})`);
    console.log(`minicloud ready in ${manifest.ready_seconds.toFixed(1)} s (manifest: ${path.join(stateDir, 'cloud.json')})`);
    admin.close();
    if (opts.exitWhenReady) await shutdown(0);
    else console.log('Press Ctrl-C to stop.');
    // Any service dying is reported; the cloud keeps running (chaos drills kill processes on purpose).
    for (const p of procs) p.exited.then((code) => !shuttingDown && console.log(`minicloud: ${p.name} exited (code ${code}); see ${p.logFile}`));
  } catch (e) {
    console.error(`minicloud: bring-up failed: ${(e as Error).message}`);
    await shutdown(1);
  }
}

async function startAndTrack(infra: LocalServer[], start: () => Promise<LocalServer>): Promise<LocalServer> {
  const s = await start();
  infra.push(s);
  return s;
}

/** A cli-table3 table, coloured only on a terminal. */
function table(head: string[]) {
  return new Table({ head, style: process.stdout.isTTY ? undefined : { head: [], border: [] } });
}

async function printSummary(admin: Awaited<ReturnType<typeof adminSession>>, m: CloudManifest, demo?: DemoResult) {
  const svc = table(['Process', 'PID', 'gRPC / HTTP', 'Metrics', 'Log']);
  for (const p of m.processes) svc.push([p.name, p.pid, p.grpc_address || p.http_url || '', `${p.metrics_url}/metrics`, path.relative(process.cwd(), p.log)]);
  console.log(svc.toString());
  const hosts = await admin.compute.listHosts({});
  const ht = table(['Host', 'State', 'vCPUs used/total', 'RAM MB used/total', 'VMs', 'Epoch']);
  for (const h of hosts.hosts) {
    ht.push([
      h.id,
      compute.HostState[h.state].replace('HOST_STATE_', ''),
      `${h.vcpus?.allocated ?? 0}/${(h.vcpus?.total ?? 0) * (h.vcpus?.allocationRatio ?? 1)}`,
      `${h.ramMb?.allocated ?? 0}/${(h.ramMb?.total ?? 0) * (h.ramMb?.allocationRatio ?? 1)}`,
      h.runningVms,
      h.epoch,
    ]);
  }
  console.log(ht.toString());
  if (demo) {
    const st = table(['Server', 'Status', 'Host', 'Addresses']);
    const res = await admin.compute.listServers({ allProjects: true });
    for (const s of res.servers) st.push([s.name, s.status, s.hostId, s.addresses.map((a) => a.ipAddress).join(', ')]);
    console.log(st.toString());
  }
  console.log(
    [
      'Use the CLI:',
      `  export MINICLOUD_URL=${m.identity_url} MINICLOUD_USER=admin MINICLOUD_PASSWORD=admin MINICLOUD_PROJECT=admin`,
      '  npm run minicloud -- server list --all-projects',
      demo ? `  (demo user: MINICLOUD_USER=demo MINICLOUD_PASSWORD=demo MINICLOUD_PROJECT=demo)` : '',
      ...(m.clouds_yaml
        ? ['Use the openstack CLI (OpenStack APIs at ' + m.openstack_api_url + '):', `  export OS_CLIENT_CONFIG_FILE=${m.clouds_yaml} OS_CLOUD=minicloud`, '  openstack server list' + (demo ? '   (OS_CLOUD=minicloud-demo: the demo project)' : '')]
        : []),
    ].join('\n'),
  );
}

void main();
