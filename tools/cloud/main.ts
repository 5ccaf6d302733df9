/**
 * `npm run cloud`: brings up a whole minicloud on this machine as processes — Redis and NATS (the
 * URLs in REDIS_URL/NATS_URL when set, else its own redis-server and nats-server), identity, image,
 * volume, network, the controller and N compute agents — seeds a demo, prints where everything is,
 * and runs until Ctrl-C, then shuts everything down in reverse order. With `--regions 2` a second
 * region, RegionTwo (its own Redis, NATS, image, volume, network, controller and agents), joins the
 * first one's identity: one catalog lists every service per region.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import Table from 'cli-table3';
import { compute } from '@minicloud/proto';
import { AlreadyExistsError } from '@minicloud/domain-errors';
import { ManagedProcess, type ReadyInfo } from './managed-process';
import { findFreePort as freePort } from '@minicloud/testing';
import { startLocalNats, startLocalRedis, type LocalServer } from './local-servers';
import { adminSession, DEFAULT_PUBLIC_CIDR, randomPublicCidr, seedDemo, seedFlavors, waitForHosts, type DemoResult } from './seed';
import { startLocalPrometheus, writePrometheusConfig } from './local-prometheus';
import type { CloudManifest } from './manifest';
import { writeCloudsYaml, type CloudEntry } from './clouds-yaml';
import { accountNameOf, withCredentials, writeCloudSecrets, type AgentPrincipal } from './secrets';
import { startTcpBalancer, type TcpBalancer } from './tcp-balancer';
import { ensureLocalCa, issueCertificate, type LocalCa } from './tls-certs';

const ROOT = path.resolve(__dirname, '../..');

interface Options {
  agents: string;
  controllers: string;
  apiReplicas: string;
  hostsPerAgent: string;
  basePort: string;
  stateDir: string;
  demo: boolean;
  demoServers: string;
  publicCidr?: string;
  logLevel: string;
  keepState: boolean;
  exitWhenReady: boolean;
  timeScale: string;
  hostProfile: string;
  withPrometheus: boolean;
  prometheusPort: string;
  insecure: boolean;
  regions: string;
}

/** The second region of `--regions 2`: its id and where its ports start (base port + this). */
const SECOND_REGION = { id: 'RegionTwo', portOffset: 2000 } as const;

export type { CloudManifest };

async function main() {
  const program = new Command('cloud')
    .description('Bring up a whole minicloud on this machine')
    .option('--agents <n>', 'compute agent processes (each one simulated host unless --hosts-per-agent)', '3')
    .option('--controllers <n>', 'controller replicas (any one serves the API and schedules; one leader runs the HA loops; clients fail over between them)', '1')
    .option(
      '--api-replicas <n>',
      'OpenStack REST front replicas; with more than one, a TCP round-robin balancer on the one published port (base port + 80) spreads connections over them (each on base port + 81.., its own metrics port) and skips one that is not ready',
      '1',
    )
    .option('--hosts-per-agent <n>', 'simulated hosts per agent process (a rack)', '1')
    .option('--base-port <port>', 'first gRPC port (identity 5000, image +1, volume +2, network +3, controller +4, elasticity +5, agents +100.., OpenStack REST API +80); 0 picks free ports', '5000')
    .option('--state-dir <dir>', 'logs, data and cloud.json', path.join(ROOT, '.minicloud'))
    .option('--no-demo', 'do not seed the demo project, image, network and servers')
    .option('--demo-servers <n>', 'servers the demo boots', '3')
    .option(
      '--public-cidr <cidr>',
      `subnet of the external network \`public\` (floating IPs, router gateways); in 127.0.0.0/8 a floating IP is reachable from this machine (guests answer SSH on it); default ${DEFAULT_PUBLIC_CIDR}, or with --base-port 0 a random /24 of 127.100.0.0-127.249.255.255 (clouds side by side do not share addresses)`,
    )
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
    .option(
      '--insecure',
      'plaintext gRPC and HTTP (no CA, no certificates), for tests and measurements; by default the bring-up makes a CA in <state-dir>/tls (kept with --keep-state) and a certificate per process, and every gRPC server and the OpenStack REST front serve TLS verified against it',
      false,
    )
    .option(
      '--regions <n>',
      `1, or 2 for a second region ${SECOND_REGION.id} (its own Redis, NATS, image, volume, network, controller and --agents agents, at base port + ${SECOND_REGION.portOffset}) sharing the first region's identity; the catalog lists each service per region (minicloud --os-region-name ${SECOND_REGION.id})`,
      '1',
    )
    .option('--prometheus-port <port>', 'port of the local prometheus (with --with-prometheus); 0 picks a free one; default base port + 4090');
  program.parse();
  const opts = program.opts<Options>();
  const apiReplicas = Number(opts.apiReplicas);
  if (!Number.isInteger(apiReplicas) || apiReplicas < 1 || apiReplicas > 19) program.error(`--api-replicas must be an integer from 1 to 19 (their ports are base port + 81..99), not '${opts.apiReplicas}'`);
  const regionCount = Number(opts.regions);
  if (regionCount !== 1 && regionCount !== 2) program.error(`--regions must be 1 or 2, not '${opts.regions}'`);
  const t0 = Date.now();
  const stateDir = path.resolve(opts.stateDir);
  const logDir = path.join(stateDir, 'logs');
  if (!opts.keepState) {
    for (const d of ['redis', 'nats', 'image', 'agents', 'prometheus', SECOND_REGION.id]) fs.rmSync(path.join(stateDir, d), { recursive: true, force: true });
  }
  fs.mkdirSync(logDir, { recursive: true });
  const basePort = Number(opts.basePort);
  const port = async (offset: number) => (basePort === 0 ? freePort() : basePort + offset);

  const infra: LocalServer[] = [];
  const procs: ManagedProcess[] = [];
  let apiBalancer: TcpBalancer | undefined;
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log('\nminicloud: shutting down...');
    await apiBalancer?.close();
    const order = ['openstack-api', 'elasticity', 'agent', 'controller', 'network', 'volume', 'image', 'identity'];
    for (const prefix of order) await Promise.all(procs.filter((p) => p.name.startsWith(prefix)).map((p) => p.stop()));
    for (const s of infra.reverse()) await s.stop();
    console.log('minicloud: stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const agentCount = Number(opts.agents);
    const hostsPerAgent = Number(opts.hostsPerAgent);
    // Agent i runs host-i, or the rack host-i-0..host-i-(N-1) (apps/compute-agent hostIdsOf), on tunnel IP 127.0.1.i.
    const agentPlan: AgentPrincipal[] = Array.from({ length: agentCount }, (_, k) => {
      const hostId = `host-${k + 1}`;
      return {
        name: `agent-${k + 1}`,
        hostIds: hostsPerAgent > 1 ? Array.from({ length: hostsPerAgent }, (_, j) => `${hostId}-${j}`) : [hostId],
        tunnelIps: [`127.0.1.${k + 1}`],
      };
    });
    // The second region's agents: agent-r2-i runs r2-host-i on tunnel IP 127.0.2.i.
    const agentPlan2: AgentPrincipal[] =
      regionCount === 2
        ? Array.from({ length: agentCount }, (_, k) => {
            const hostId = `r2-host-${k + 1}`;
            return { name: `agent-r2-${k + 1}`, hostIds: hostsPerAgent > 1 ? Array.from({ length: hostsPerAgent }, (_, j) => `${hostId}-${j}`) : [hostId], tunnelIps: [`127.0.2.${k + 1}`] };
          })
        : [];
    // Secrets are generated for every run (kept with --keep-state): the admin, demo and service
    // passwords and one Redis/NATS user per service and agent, in <state-dir>/secrets (0600).
    const { secrets, files: secretFiles } = writeCloudSecrets(stateDir, [...agentPlan, ...agentPlan2], { keep: opts.keepState });
    // TLS: a CA in <state-dir>/tls (kept with --keep-state) and a certificate per process, issued at
    // launch. The bring-up's own clients verify the services with the CA too.
    const ca: LocalCa | undefined = opts.insecure ? undefined : await ensureLocalCa(stateDir, { keep: opts.keepState });
    const clientTls = ca ? { ca: fs.readFileSync(ca.files.caCert) } : null;
    /**
     * TLS_* of process `name`: the CA and a fresh certificate for it; with --insecure, empty values,
     * so that a TLS_* variable of the bring-up's own environment does not reach the processes.
     */
    const tlsEnv = async (name: string): Promise<Record<string, string>> => {
      if (!ca) return { TLS_CA_FILE: '', TLS_CERT_FILE: '', TLS_KEY_FILE: '' };
      const leaf = await issueCertificate(ca, name);
      return { TLS_CA_FILE: ca.files.caCert, TLS_CERT_FILE: leaf.cert, TLS_KEY_FILE: leaf.key };
    };
    const ownRedis = process.env.REDIS_URL ? undefined : await startAndTrack(infra, async () => startLocalRedis(path.join(stateDir, 'redis'), logDir, basePort === 0 ? await freePort() : basePort + 379, { aclFile: secretFiles.redisAcl }));
    const ownNats = process.env.NATS_URL ? undefined : await startAndTrack(infra, async () => startLocalNats(path.join(stateDir, 'nats'), logDir, basePort === 0 ? await freePort() : basePort + 422, { configFile: secretFiles.natsConf }));
    /** REDIS_URL and NATS_URL of one Redis/NATS user (given URLs are used as they are, by everyone). */
    const infraEnv = (user: string) => ({
      REDIS_URL: ownRedis ? withCredentials(ownRedis.url, user, secrets.infra[user]) : process.env.REDIS_URL!,
      NATS_URL: ownNats ? withCredentials(ownNats.url, user, secrets.infra[user]) : process.env.NATS_URL!,
    });
    const { REDIS_URL: redisUrl, NATS_URL: natsUrl } = infraEnv('operator');
    // Nova's metadata_proxy_shared_secret: the controllers' metadata API checks the agents' signatures with it.
    const metadataSecret = secrets.metadata_proxy_secret;
    const common = {
      LOG_LEVEL: opts.logLevel,
      SERVICE_PASSWORD: secrets.service_password,
      TIME_SCALE: opts.timeScale,
      // Every /metrics answers only scrapes with this token (Prometheus reads it from the secrets dir).
      METRICS_BEARER_TOKEN: secrets.metrics_bearer_token,
    };
    /**
     * Launches apps/<app> as `name`, logged in to Redis and NATS as `infraUser` (none for the stateless
     * REST front) and to identity as its own user (`account`: the service's, or the agent's).
     */
    const launch = async (name: string, app: string, offset: number, env: Record<string, string> = {}, infraUser: string | undefined = app, account = accountNameOf(app)) => {
      const login: Record<string, string> = secrets.accounts[account] ? { SERVICE_USER: account, SERVICE_PASSWORD: secrets.accounts[account] } : {};
      const p = new ManagedProcess(name, path.join(ROOT, 'apps', app, 'src/main.ts'), {
        cwd: ROOT,
        logDir,
        env: { ...common, ...login, ...(infraUser ? infraEnv(infraUser) : {}), ...(await tlsEnv(name)), GRPC_PORT: String(await port(offset)), METRICS_PORT: String(await port(offset + 4100)), ...env },
      });
      procs.push(p);
      return p;
    };

    // Controller replicas (--controllers N): any serves the API and schedules in its request path, one
    // leader runs the HA/resync/DRS loops; each adds its endpoint to the catalog (newest first).
    const launchControllers = async () => {
      const n = Math.max(1, Number(opts.controllers));
      // Each replica serves the metadata API (Nova's nova-api-metadata) at base port + 75 + i.
      const metadataEnv = async (i: number) => {
        const metadataPort = await port(75 + i);
        metadataUrls[i] = `http://127.0.0.1:${metadataPort}`;
        return { ...withIdentity, METADATA_PORT: String(metadataPort), METADATA_PROXY_SHARED_SECRET: metadataSecret };
      };
      const first = await launch('controller', 'controller', 4, await metadataEnv(0));
      const more = await Promise.all(Array.from({ length: n - 1 }, async (_, i) => launch(`controller-${i + 2}`, 'controller', 60 + i, await metadataEnv(i + 1))));
      return [first, ...more];
    };
    /**
     * RegionTwo: its own Redis and NATS (same users and secrets as the first region's), then its
     * image, volume, network and controller with REGION=RegionTwo, then its agents; all log in to the
     * first region's identity and register their endpoints in RegionTwo.
     */
    const launchSecondRegion = async () => {
      const r = SECOND_REGION;
      const dir = path.join(stateDir, r.id);
      const redis2 = process.env.REDIS_URL ? undefined : await startAndTrack(infra, async () => startLocalRedis(path.join(dir, 'redis'), logDir, basePort === 0 ? await freePort() : basePort + r.portOffset + 379, { aclFile: secretFiles.redisAcl, name: `redis-${r.id}` }));
      const nats2 = process.env.NATS_URL ? undefined : await startAndTrack(infra, async () => startLocalNats(path.join(dir, 'nats'), logDir, basePort === 0 ? await freePort() : basePort + r.portOffset + 422, { configFile: secretFiles.natsConf, name: `nats-${r.id}` }));
      if (!redis2 || !nats2) throw new Error('--regions 2 needs the bring-up to start each region\'s Redis and NATS: unset REDIS_URL and NATS_URL');
      const infra2 = (user: string) => ({ REDIS_URL: withCredentials(redis2.url, user, secrets.infra[user]), NATS_URL: withCredentials(nats2.url, user, secrets.infra[user]) });
      const regional = (user: string) => ({ ...withIdentity, REGION: r.id, ...infra2(user) });
      const metadataPort = await port(r.portOffset + 75);
      const metadataUrl = `http://127.0.0.1:${metadataPort}`;
      const svcs = await Promise.all([
        launch(`image-${r.id}`, 'image', r.portOffset + 1, { ...regional('image'), IMAGE_DATA_DIR: path.join(dir, 'image') }),
        launch(`volume-${r.id}`, 'volume', r.portOffset + 2, regional('volume')),
        launch(`network-${r.id}`, 'network', r.portOffset + 3, regional('network')),
        launch(`controller-${r.id}`, 'controller', r.portOffset + 4, { ...regional('controller'), METADATA_PORT: String(metadataPort), METADATA_PROXY_SHARED_SECRET: metadataSecret }),
      ]);
      await Promise.all(svcs.map((p) => p.ready));
      const agents2 = await Promise.all(
        agentPlan2.map((a, k) =>
          launch(a.name, 'compute-agent', r.portOffset + 100 + k, {
            ...regional(a.name),
            HOST_ID: a.hostIds.length > 1 ? `r2-host-${k + 1}` : a.hostIds[0],
            AGENT_HOSTS: String(hostsPerAgent),
            ...(opts.hostProfile === 'mixed' ? { HOST_PROFILE_INDEX: String(k) } : { HOST_PROFILE: opts.hostProfile }),
            TUNNEL_IP: a.tunnelIps[0],
            AGENT_STATE_DIR: path.join(dir, 'agents', a.hostIds[0]),
            METADATA_URL: metadataUrl,
            METADATA_PROXY_SHARED_SECRET: metadataSecret,
          }, a.name, a.name),
        ),
      );
      await Promise.all(agents2.map((p) => p.ready));
      for (const p of [...svcs, ...agents2]) regionOfProcess.set(p, r.id);
      return { id: r.id, redisUrl: withCredentials(redis2.url, 'operator', secrets.infra.operator), natsUrl: withCredentials(nats2.url, 'operator', secrets.infra.operator), agents: agents2, metadataUrl };
    };
    const regionOfProcess = new Map<ManagedProcess, string>();
    // Every replica's metadata API: agents try the next when one is down.
    const metadataUrls: string[] = [];
    const identity = await launch('identity', 'identity', 0, {
      ADMIN_PASSWORD: secrets.admin_password,
      SIGNING_KEY_ENCRYPTION_KEY: secrets.signing_key_encryption_key,
      // Every service's and agent's own login: services admin on the service project, agents
      // compute_agent bound to their own hosts (an agent may act for no other host id).
      SERVICE_ACCOUNTS: JSON.stringify(
        Object.entries(secrets.accounts).map(([accountName, password]) => {
          if (accountName.startsWith(accountNameOf(''))) return { name: accountName, password, role: 'admin' };
          // An agent of an earlier, larger run (--keep-state) keeps its login but acts for no host.
          return { name: accountName, password, role: 'compute_agent', hostIds: [...agentPlan, ...agentPlan2].find((a) => a.name === accountName)?.hostIds ?? [] };
        }),
      ),
    });
    const identityInfo = await identity.ready;
    const withIdentity = { IDENTITY_URL: identityInfo.grpc_address };
    const services = await Promise.all([
      launch('image', 'image', 1, { ...withIdentity, IMAGE_DATA_DIR: path.join(stateDir, 'image') }),
      launch('volume', 'volume', 2, withIdentity),
      launch('network', 'network', 3, withIdentity),
      // Load balancers and scaling groups (Octavia, Senlin, Aodh): a client of the others' public APIs.
      launch('elasticity', 'elasticity', 5, withIdentity),
      ...(await launchControllers()),
    ]);
    await Promise.all(services.map((s) => s.ready));

    const agents: { proc: ManagedProcess; hostIds: string[] }[] = [];
    for (let i = 1; i <= agentCount; i++) {
      const hostId = `host-${i}`;
      const { hostIds, tunnelIps } = agentPlan[i - 1];
      const proc = await launch(`agent-${i}`, 'compute-agent', 100 + i - 1, {
        ...withIdentity,
        HOST_ID: hostId,
        AGENT_HOSTS: String(hostsPerAgent),
        ...(opts.hostProfile === 'mixed' ? { HOST_PROFILE_INDEX: String(i - 1) } : { HOST_PROFILE: opts.hostProfile }),
        TUNNEL_IP: tunnelIps[0],
        AGENT_STATE_DIR: path.join(stateDir, 'agents', hostId),
        // The agent plays Neutron's metadata proxy for its guests' cloud-init.
        METADATA_URL: metadataUrls.join(','),
        METADATA_PROXY_SHARED_SECRET: metadataSecret,
      }, agentPlan[i - 1].name, agentPlan[i - 1].name);
      agents.push({ proc, hostIds });
    }
    await Promise.all(agents.map((a) => a.proc.ready));
    const region2 = regionCount === 2 ? await launchSecondRegion() : undefined;
    // The OpenStack REST front (one HTTP port, devstack's path prefixes), base port + 80: the one
    // replica itself, or a TCP balancer over --api-replicas replicas (stateless; any serves any request).
    const apiOffset = (i: number) => (apiReplicas === 1 ? 80 : 81 + i);
    const openstackApis = await Promise.all(
      Array.from({ length: apiReplicas }, async (_, i) =>
        launch(i === 0 ? 'openstack-api' : `openstack-api-${i + 1}`, 'openstack-api', apiOffset(i), { ...withIdentity, HTTP_PORT: String(await port(apiOffset(i))) }, undefined),
      ),
    );
    const apiInfos = await Promise.all(openstackApis.map((p) => p.ready));
    let openstackApiUrl = apiInfos[0].http_url!;
    if (apiReplicas > 1) {
      apiBalancer = await startTcpBalancer(
        apiInfos.map((info) => {
          const u = new URL(info.http_url!);
          return { host: u.hostname, port: Number(u.port), healthUrl: `${info.metrics_url}/readyz` };
        }),
        // TLS passes through the balancer: each replica presents its own certificate.
        { port: await port(80), scheme: new URL(apiInfos[0].http_url!).protocol === 'https:' ? 'https' : 'http' },
      );
      openstackApiUrl = apiBalancer.url;
    }

    const admin = await adminSession(identityInfo.grpc_address, 'admin', secrets.admin_password, 'admin', clientTls);
    // Registration is a few round trips per host: allow 60 ms a host beyond the first 30 s (1,000 hosts: 60 s).
    const hostsWaitMs = Math.max(30_000, 60 * agentCount * hostsPerAgent);
    await waitForHosts(admin, agentCount * hostsPerAgent, hostsWaitMs, t0);
    if (region2) {
      // Keystone's region record, so that GET /v3/regions of the REST front lists it too.
      await admin.identity.createRegion({ id: region2.id, description: 'second region (npm run cloud -- --regions 2)', parentRegionId: '' }).catch((e: Error) => {
        if (!(e instanceof AlreadyExistsError)) throw e;
      });
      const admin2 = await adminSession(identityInfo.grpc_address, 'admin', secrets.admin_password, 'admin', clientTls, region2.id);
      try {
        await waitForHosts(admin2, agentCount * hostsPerAgent, hostsWaitMs, t0);
        await seedFlavors(admin2);
      } finally {
        admin2.close();
      }
    }
    const manifest: CloudManifest = {
      redis_url: redisUrl,
      nats_url: natsUrl,
      identity_url: identityInfo.grpc_address,
      admin: { user: 'admin', password: secrets.admin_password, project: 'admin' },
      secrets_dir: secretFiles.dir,
      metrics_bearer_token: secrets.metrics_bearer_token,
      ...(ca ? { tls: { ca_file: ca.files.caCert } } : {}),
      processes: await Promise.all(
        procs.map(async (p) => {
          const info: ReadyInfo = await p.ready;
          const agent = agents.find((a) => a.proc === p);
          return {
            name: p.name,
            kind: agent || region2?.agents.includes(p) ? 'compute-agent' : regionOfProcess.has(p) ? p.name.replace(`-${regionOfProcess.get(p)}`, '') : p.name.startsWith('controller') ? 'controller' : p.name.startsWith('openstack-api') ? 'openstack-api' : p.name,
            pid: p.pid ?? 0,
            grpc_address: info.grpc_address,
            metrics_url: info.metrics_url,
            ...(info.http_url ? { http_url: info.http_url } : {}),
            log: p.logFile,
            ...(agent ? { host_ids: agent.hostIds } : {}),
            ...(region2 && region2.agents.includes(p) ? { host_ids: agentPlan2[region2.agents.indexOf(p)].hostIds } : {}),
            region: regionOfProcess.get(p) ?? 'RegionOne',
          };
        }),
      ),
      ready_seconds: 0,
      ...(region2 ? { regions: [{ id: 'RegionOne', redis_url: redisUrl, nats_url: natsUrl }, { id: region2.id, redis_url: region2.redisUrl, nats_url: region2.natsUrl }] } : {}),
    };
    if (opts.withPrometheus) {
      const promPort = opts.prometheusPort !== undefined ? Number(opts.prometheusPort) : basePort === 0 ? 0 : basePort + 4090;
      const configFile = writePrometheusConfig(path.join(stateDir, 'prometheus'), manifest.processes, { bearerTokenFile: secretFiles.metricsToken });
      const prom = await startAndTrack(infra, async () => startLocalPrometheus(configFile, logDir, promPort === 0 ? await freePort() : promPort));
      manifest.prometheus_url = prom.url;
      manifest.prometheus_pid = prom.child.pid;
    }
    let demo: DemoResult | undefined;
    if (opts.demo) demo = await seedDemo(admin, { imageDir: path.join(stateDir, 'demo'), servers: Number(opts.demoServers), demoPassword: secrets.demo_password, tls: clientTls, publicCidr: opts.publicCidr ?? (basePort === 0 ? randomPublicCidr() : DEFAULT_PUBLIC_CIDR) });
    const clouds: CloudEntry[] = [
      { name: 'minicloud', user: 'admin', password: secrets.admin_password, project: 'admin' },
      // the cloud administrator's system-scoped entry (Keystone's system scope, `--os-system-scope all`)
      { name: 'minicloud-system', user: 'admin', password: secrets.admin_password, system: 'all' },
    ];
    if (demo) {
      clouds.push({ name: 'minicloud-demo', user: 'demo', password: secrets.demo_password, project: 'demo' });
      manifest.demo = { user: 'demo', password: secrets.demo_password, project: 'demo' };
    }
    manifest.openstack_api_url = openstackApiUrl;
    if (apiBalancer) manifest.openstack_api_replicas = apiInfos.map((info) => ({ http_url: info.http_url!, metrics_url: info.metrics_url }));
    manifest.metadata_url = metadataUrls[0];
    manifest.clouds_yaml = writeCloudsYaml(stateDir, openstackApiUrl, 'RegionOne', clouds, ca?.files.caCert);
    manifest.ready_seconds = (Date.now() - t0) / 1000;
    // cloud.json holds the operator's Redis/NATS credentials and the admin password: owner-only.
    fs.writeFileSync(path.join(stateDir, 'cloud.json'), JSON.stringify(manifest, null, 2), { mode: 0o600 });
    fs.chmodSync(path.join(stateDir, 'cloud.json'), 0o600);
    await printSummary(admin, manifest, demo);
    if (manifest.openstack_api_replicas) {
      console.log(`OpenStack REST front: ${manifest.openstack_api_url} balances TCP connections round-robin over ${manifest.openstack_api_replicas.length} replicas:`);
      for (const r of manifest.openstack_api_replicas) console.log(`  ${r.http_url}  metrics ${r.metrics_url}/metrics`);
    }
    if (region2) console.log(`Second region ${region2.id}: its processes are marked in cloud.json; the CLI talks to it with --os-region-name ${region2.id} (or MINICLOUD_REGION=${region2.id})`);
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
      `Secrets (generated for this cloud; admin, demo and service passwords, Redis/NATS users): ${m.secrets_dir}/secrets.json`,
      m.tls
        ? `TLS: gRPC and the OpenStack REST front verify against the CA ${m.tls.ca_file} (certificates in ${path.dirname(m.tls.ca_file)}; --insecure for plaintext)`
        : 'TLS: off (--insecure): gRPC and HTTP are plaintext',
      'Use the CLI:',
      `  export MINICLOUD_URL=${m.identity_url}${m.tls ? ` MINICLOUD_CACERT=${m.tls.ca_file}` : ''} MINICLOUD_USER=admin MINICLOUD_PASSWORD="$(node -p "require('${m.secrets_dir}/secrets.json').admin_password")" MINICLOUD_PROJECT=admin`,
      '  npm run minicloud -- server list --all-projects',
      demo ? `  (demo user: MINICLOUD_USER=demo MINICLOUD_PROJECT=demo, MINICLOUD_PASSWORD: demo_password in secrets.json)` : '',
      ...(m.clouds_yaml
        ? ['Use the openstack CLI (OpenStack APIs at ' + m.openstack_api_url + '):', `  export OS_CLIENT_CONFIG_FILE=${m.clouds_yaml} OS_CLOUD=minicloud`, '  openstack server list' + (demo ? '   (OS_CLOUD=minicloud-demo: the demo project)' : '')]
        : []),
    ].join('\n'),
  );
}

void main();
