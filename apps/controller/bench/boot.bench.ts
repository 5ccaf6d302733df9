/**
 * End-to-end boot benchmark: `npx tsx apps/controller/bench/boot.bench.ts [vms] [agents] [hostsPerAgent] [concurrency] [waitSeconds]`
 * (defaults 1000 VMs, 4 agent processes x 25 simulated hosts = 100 hosts, 50 creates in flight,
 * give up waiting for ACTIVE after 300 s and print the figures of what settled).
 * Starts a whole cloud with tools/cloud/spawn-cloud.ts (own redis/nats, free ports, temp state dir, no
 * demo), lifts the admin project's quota, seeds a flavor (1 vCPU, 256 MB, 1 GB), a 16 MB qcow2 image and a network through the CLI,
 * then fires the creates through ComputeService (one server per request, `concurrency` at a time)
 * and waits for every server to be ACTIVE. Prints boots/s (VMs / (last launched_at - first
 * created_at)) and the p50/p99/max of create -> ACTIVE (launched_at - created_at, both stamped by the
 * controller). Also prints the Redis commands (INFO commandstats) and NATS messages (a `>`
 * subscription, grouped by subject with host ids folded) per create, net of the background rate
 * (heartbeats, leases, reports) measured over an idle window of IDLE_SECONDS before the creates.
 * Stops the cloud at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { natsConnectionOptions } from '@minicloud/platform-bus';
import { spawnCloud } from '../../../tools/cloud/spawn-cloud';
import { quantile, seedBenchProject } from './bench-project';
import { manifestTls } from '../../../tools/cloud/seed';

const [vms, agents, hostsPerAgent, concurrency, waitSeconds] = [1000, 4, 25, 50, 300].map((d, i) => Number(process.argv[2 + i] ?? d));

const IDLE_SECONDS = 3;

/** Total calls per Redis command from INFO commandstats. */
async function redisCommandCounts(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d.set(k, v - (before.get(k) ?? 0));
  return d;
}

/** Counts every NATS message by subject, with host ids and uuids folded to `*`. */
function natsCounter(nc: NatsConnection): { counts: Map<string, number>; snapshot: () => Map<string, number> } {
  const counts = new Map<string, number>();
  const sub = nc.subscribe('>');
  void (async () => {
    for await (const m of sub) {
      const key = m.subject
        .replace(/host-[0-9-]+/g, '*')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '*')
        .replace(/_INBOX\..*/, '_INBOX')
        .replace(/\$JS\.ACK\..*/, '$JS.ACK');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  })();
  return { counts, snapshot: () => new Map(counts) };
}

/** Per process kind and gRPC method: calls and seconds handled (minicloud_grpc_server_handling_seconds). */
type RpcStats = Map<string, { count: number; seconds: number }>;

async function rpcStats(processes: { kind: string; metrics_url: string }[], bearerToken?: string): Promise<RpcStats> {
  const out: RpcStats = new Map();
  await Promise.all(
    processes.map(async (p) => {
      const text = await fetch(`${p.metrics_url}/metrics`, { headers: bearerToken ? { authorization: `Bearer ${bearerToken}` } : {} }).then((r) => r.text(), () => '');
      for (const line of text.split('\n')) {
        const rpc = /^minicloud_grpc_server_handling_seconds_(sum|count)\{.*grpc_method="([^"]+)".*\} ([0-9.e+-]+)$/.exec(line);
        // The scheduler's own histogram (schedule + claim of one create), shown as a pseudo-method.
        const placement = /^minicloud_scheduler_placement_seconds_(sum|count)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        const m = rpc ?? (placement && [line, placement[1], '(placement)', placement[2]]);
        if (!m) continue;
        const key = `${p.kind}.${m[2]}`;
        const cur = out.get(key) ?? { count: 0, seconds: 0 };
        if (m[1] === 'sum') cur.seconds += Number(m[3]);
        else cur.count += Number(m[3]);
        out.set(key, cur);
      }
    }),
  );
  return out;
}

/** Prints the RPCs served per create by each process kind and method, and their mean server-side time. */
function printRpcs(after: RpcStats, before: RpcStats, creates: number): void {
  const rows = [...after]
    .map(([k, v]) => {
      const b = before.get(k) ?? { count: 0, seconds: 0 };
      return { k, calls: v.count - b.count, seconds: v.seconds - b.seconds };
    })
    .filter((r) => r.calls > 0)
    .sort((a, b) => b.seconds - a.seconds);
  const total = rows.filter((r) => !r.k.endsWith('(placement)')).reduce((a, r) => a + r.calls, 0);
  console.log(`gRPC calls per create: ${(total / creates).toFixed(1)}; by server.method (calls per create, mean ms served):`);
  for (const r of rows) console.log(`  ${r.k}: ${(r.calls / creates).toFixed(2)} x ${((1000 * r.seconds) / r.calls).toFixed(1)} ms`);
}

/** Prints `per create` figures: (delta - idle rate x seconds) / creates, largest first. */
function printPerCreate(label: string, delta: Map<string, number>, idle: Map<string, number>, idleSeconds: number, seconds: number, creates: number, top = 12): void {
  const rows = [...delta].map(([k, v]) => [k, (v - ((idle.get(k) ?? 0) / idleSeconds) * seconds) / creates] as const).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((a, [, v]) => a + v, 0);
  console.log(`${label} per create (net of idle): ${total.toFixed(1)}; ${rows.slice(0, top).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ')}`);
}

async function main(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minicloud-bench-'));
  const cloud = await spawnCloud(stateDir, ['--agents', String(agents), '--hosts-per-agent', String(hostsPerAgent), '--no-demo', '--log-level', 'info'], {
    HA_HOST_FAILURES_TO_TOLERATE: '0',
  });
  const manifest = cloud.manifest;
  try {
    const { imageId, networkId, token } = seedBenchProject(manifest, stateDir, { flavorName: 'b1.unit', imageName: 'bench-img', networkName: 'bench-net', cidr: '10.64.0.0/20' });
    const controller = manifest.processes.find((p) => p.name === 'controller')!;
    const c = createServiceClient(compute.ComputeServiceService, controller.grpc_address, { token: () => token, deadlineMs: 120_000, tls: manifestTls(manifest) });

    const redis = new Redis(manifest.redis_url, { lazyConnect: false });
    const nc = await natsConnect(natsConnectionOptions(manifest.nats_url));
    const nats = natsCounter(nc);
    // Scraped before the Redis counts start: a scrape reads every host (the controller's gauges).
    const rpc0 = await rpcStats(manifest.processes, manifest.metrics_bearer_token);
    const idleRedis0 = await redisCommandCounts(redis);
    const idleNats0 = nats.snapshot();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const redis0 = await redisCommandCounts(redis);
    const nats0 = nats.snapshot();
    const idleRedis = diff(redis0, idleRedis0);
    const idleNats = diff(nats0, idleNats0);

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
    const listCost = new Map<string, number>();
    let listPolls = 0;
    for (;;) {
      servers = [];
      let pageToken = '';
      const beforeList = await redisCommandCounts(redis);
      do {
        const r = await c.listServers({ page: { pageSize: 1000, pageToken } });
        servers.push(...r.servers);
        pageToken = r.page?.nextPageToken ?? '';
      } while (pageToken);
      // The polls' own commands (and the two INFO calls) are not a create's cost: set them aside.
      for (const [k, v] of diff(await redisCommandCounts(redis), beforeList)) listCost.set(k, (listCost.get(k) ?? 0) + v);
      listPolls++;
      const settled = servers.filter((s) => s.vmState === compute.VmState.VM_STATE_ACTIVE || s.vmState === compute.VmState.VM_STATE_ERROR);
      if (settled.length === servers.length) break;
      if (Date.now() - started > waitSeconds * 1000) {
        console.log(`TIMEOUT: only ${settled.length}/${servers.length} settled after ${waitSeconds} s; figures below cover the ACTIVE ones`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const settledSeconds = (Date.now() - started) / 1000;
    const redisDelta = diff(await redisCommandCounts(redis), redis0);
    for (const [k, v] of listCost) redisDelta.set(k, (redisDelta.get(k) ?? 0) - v);
    const natsDelta = diff(nats.snapshot(), nats0);
    const rpc1 = await rpcStats(manifest.processes, manifest.metrics_bearer_token);
    redis.disconnect();
    await nc.close();
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
    console.log(`settle polls: ${listPolls} listServers, ${[...listCost.values()].reduce((a, b) => a + b, 0)} Redis commands in all (not counted below)`);
    printPerCreate('redis commands', redisDelta, idleRedis, IDLE_SECONDS, settledSeconds, vms);
    printPerCreate('nats messages', natsDelta, idleNats, IDLE_SECONDS, settledSeconds, vms);
    // The settle loop's listServers calls are among the controller's.
    printRpcs(rpc1, rpc0, vms);
    c.close();
  } finally {
    await cloud.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
