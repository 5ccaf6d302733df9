import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { agent, compute } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { findFreePort, startTcpProxy, type TcpProxy } from '@minicloud/testing';
import { ROOT, seedTinyCloud, startCloud, type RunningCloud } from '../cloud-harness';
import { InvariantChecker } from './invariant-checker';

/**
 * Timings of the chaos suite (env of every process), chosen safe AND quick:
 * heartbeat 500 ms; suspect after 1 s (2 missed); failed after 2 s of heartbeat silence with the lease
 * gone; lease TTL 1.5 s renewed every 500 ms; the agent self-fences 2 s after its last renewal; the
 * controller restarts only self_fence_after (2 s) after it first saw the lease absent, i.e. >= lease_ttl
 * + self_fence_after = 3.5 s after the last renewal: 1.5 s after the agent powered its VMs off.
 * A restart therefore comes ~4-5 s after a kill. Leader lease 2 s: a replica takes over in <= 2-3 s.
 */
export const CHAOS_TIMINGS: Record<string, string> = {
  HEARTBEAT_INTERVAL_MS: '500',
  HOST_SUSPECT_AFTER_MS: '1000',
  HOST_DOWN_AFTER_MS: '2000',
  LEASE_TTL_MS: '1500',
  SELF_FENCE_AFTER_MS: '2000',
  LIVENESS_INTERVAL_MS: '250',
  NEW_HOST_GRACE_MS: '5000',
  LEADER_TTL_MS: '2000',
  RESYNC_INTERVAL_MS: '2000',
  RESYNC_STUCK_AFTER_MS: '5000',
  QUOTAS_ENABLED: 'false',
};

export interface ChaosCloud {
  cloud: RunningCloud;
  checker: InvariantChecker;
  compute: ServiceClient<typeof compute.ComputeServiceService>;
  /** The admin token (CLI login). */
  token: string;
  imageId: string;
  networkId: string;
  /** pid of the agent process hosting `hostId`. */
  agentPid(hostId: string): number;
  stop(): Promise<void>;
}

/**
 * Starts a cloud for chaos (2 controllers by default; `apiReplicas` replicas of the OpenStack REST
 * front, default 1), seeds flavor/image/network via the CLI, starts the checker.
 */
export async function startChaosCloud(opts: { agents: number; controllers?: number; apiReplicas?: number; env?: Record<string, string>; defaultTimings?: boolean }): Promise<ChaosCloud> {
  const timings = opts.defaultTimings ? { QUOTAS_ENABLED: 'false' } : CHAOS_TIMINGS;
  const cloud = await startCloud({ agents: opts.agents, controllers: opts.controllers ?? 2, apiReplicas: opts.apiReplicas, env: { ...timings, ...(opts.env ?? {}) } });
  const checker = new InvariantChecker();
  try {
    await checker.start(cloud.manifest.nats_url, cloud.manifest.redis_url);
    await cloud.run(['login']);
    const { imageId, networkId } = await seedTinyCloud(cloud, { network: 'chaos-net', cidr: '10.30.0.0/16' });
    const token = JSON.parse(fs.readFileSync(path.join(cloud.stateDir, 'cli', 'credentials.json'), 'utf8')).token as string;
    // Every controller replica (grpc-js "ipv4:a,b" target, pick_first): the client fails over when one dies.
    const computeUrl = `ipv4:${cloud.manifest.processes.filter((p) => p.kind === 'controller').map((p) => p.grpc_address).join(',')}`;
    const c = createServiceClient(compute.ComputeServiceService, computeUrl, { token: () => token, deadlineMs: 60_000 });
    return {
      cloud,
      checker,
      compute: c,
      token,
      imageId,
      networkId,
      agentPid: (hostId) => cloud.manifest.processes.find((p) => (p.host_ids ?? []).includes(hostId))!.pid,
      async stop() {
        c.close();
        await checker.stop();
        await cloud.stop();
      },
    };
  } catch (e) {
    await checker.stop();
    await cloud.stop();
    throw e;
  }
}

/** Polls `fn` until it returns a truthy value (or throws the last failure after `timeoutMs`). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Boots `count` servers all on `hostId` (other hosts disabled meanwhile); resolves when all are ACTIVE. */
export async function bootOnHost(cc: ChaosCloud, hostId: string, count: number, extra: Partial<compute.CreateServerRequest> = {}): Promise<string[]> {
  const hosts = (await cc.compute.listHosts({})).hosts.map((h) => h.id);
  const others = hosts.filter((h) => h !== hostId);
  for (const h of others) await cc.compute.updateHost({ hostId: h, enabled: false, disabledReason: 'chaos: pin boots' });
  let ids: string[];
  try {
    const res = await cc.compute.createServer({ name: `ha-${hostId}`, flavorRef: 'm1.tiny', imageRef: cc.imageId, networks: [{ networkId: cc.networkId }], minCount: count, maxCount: count, ...extra });
    ids = res.servers.map((s) => s.id);
  } finally {
    for (const h of others) await cc.compute.updateHost({ hostId: h, enabled: true });
  }
  await waitAll(cc, ids, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId === hostId, 60_000, `${count} servers ACTIVE on ${hostId}`);
  return ids;
}

/** A create that settled: no task left, and ACTIVE, or ERROR with a fault saying why (never stuck, never silent). */
export function activeOrFaulted(s: compute.Server): boolean {
  return s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && (s.vmState === compute.VmState.VM_STATE_ACTIVE || (s.vmState === compute.VmState.VM_STATE_ERROR && !!s.fault?.message));
}

/** Waits until every id satisfies `ok`. */
export async function waitAll(cc: ChaosCloud, ids: readonly string[], ok: (s: compute.Server) => boolean, timeoutMs: number, what: string): Promise<compute.Server[]> {
  const want = new Set(ids);
  return until(
    what,
    async () => {
      const servers = (await cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers.filter((s) => want.has(s.id));
      return servers.length === want.size && servers.every(ok) ? servers : undefined;
    },
    timeoutMs,
  );
}

/** Pids of processes whose command line contains every one of `parts` (Linux /proc). */
export function pidsMatching(...parts: string[]): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (parts.every((p) => cmd.includes(p))) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Quantile (0..1) of a list of numbers (nearest rank). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Command line and environment of a running process (Linux /proc), to start it again after a kill. */
export function processSpec(pid: number): { argv: string[]; env: Record<string, string> } {
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(
    fs
      .readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { argv, env };
}

/** An extra agent whose NATS (or Redis) link goes through a proxy the test can cut. */
export interface ProxiedAgent {
  proxy: TcpProxy;
  child: ChildProcess;
  /** HypervisorService of the agent (admin token): its own view of its VMs, reachable while cut. */
  agentClient: ServiceClient<typeof agent.HypervisorServiceService>;
  /** The agent's gRPC address (to call it with another token). */
  grpcAddress: string;
  /** Its metrics server (/readyz says whether NATS is connected). */
  metricsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts agent `hostId` (host-1's command line and env, new ports, tunnel IP 127.0.1.<n>) with its
 * `link` (NATS by default, or Redis) through a TCP proxy; `env` adds settings (e.g. ISOLATION_RESPONSE).
 * Resolves once the controller lists it UP.
 */
export async function startProxiedAgent(cc: ChaosCloud, hostId: string, n: number, opts: { link?: 'nats' | 'redis'; env?: Record<string, string> } = {}): Promise<ProxiedAgent> {
  const link = opts.link ?? 'nats';
  const target = Number(new URL(link === 'nats' ? cc.cloud.manifest.nats_url : cc.cloud.manifest.redis_url).port);
  const proxy = await startTcpProxy(target);
  const spec = processSpec(cc.agentPid('host-1'));
  const grpcPort = await findFreePort();
  const metricsPort = await findFreePort();
  // An agent the bring-up did not plan has no Redis/NATS user of its own (their permissions name the
  // planned hosts): it connects as the operator, through the proxy on the cut link.
  const m = cc.cloud.manifest;
  const viaProxy = (proxied: string, manifestUrl: string) => {
    const u = new URL(proxied);
    const creds = new URL(manifestUrl);
    u.username = creds.username;
    u.password = creds.password;
    return u.toString().replace(/\/$/, '');
  };
  // Nor an identity user bound to its host: it logs in as the bring-up's shared service user (admin),
  // since agent-1's own account may act for host-1 only.
  const serviceLogin = m.secrets_dir
    ? { SERVICE_USER: 'minicloud', SERVICE_PASSWORD: (JSON.parse(fs.readFileSync(path.join(m.secrets_dir, 'secrets.json'), 'utf8')) as { service_password: string }).service_password }
    : {};
  const env = {
    ...spec.env,
    ...serviceLogin,
    HOST_ID: hostId,
    NATS_URL: link === 'nats' ? viaProxy(proxy.url('nats'), m.nats_url) : m.nats_url,
    REDIS_URL: link === 'redis' ? viaProxy(proxy.url('redis'), m.redis_url) : m.redis_url,
    GRPC_PORT: String(grpcPort),
    METRICS_PORT: String(metricsPort),
    TUNNEL_IP: `127.0.1.${n}`,
    AGENT_STATE_DIR: path.join(cc.cloud.stateDir, 'agents', hostId),
    ...(opts.env ?? {}),
  };
  const log = fs.openSync(path.join(cc.cloud.stateDir, `${hostId}.log`), 'a');
  const child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', log, log] });
  const agentClient = createServiceClient(agent.HypervisorServiceService, `127.0.0.1:${grpcPort}`, { token: () => cc.token, deadlineMs: 10_000 });
  const stop = async () => {
    proxy.restore();
    agentClient.close();
    child.kill('SIGKILL');
    await proxy.close();
  };
  try {
    await until(`${hostId} UP`, async () => (await cc.compute.getHost({ hostId })).host?.state === compute.HostState.HOST_STATE_UP, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { proxy, child, agentClient, grpcAddress: `127.0.0.1:${grpcPort}`, metricsUrl: `http://127.0.0.1:${metricsPort}`, stop };
}
