/**
 * Scale benchmark (one machine, many simulated hosts, many ACTIVE VMs):
 *   npx tsx apps/controller/bench/scale.bench.ts [hosts] [vms] [agents] [concurrency] [waitSeconds]
 *   (or `npm run bench:scale -- ...`; defaults 1000 hosts, 10000 VMs, 10 agent processes, 50 create
 *   requests in flight, wait up to 3600 s for ACTIVE). `npm run bench:scale -- 100 500 2` tries it small.
 *
 * Starts a whole cloud with tools/cloud/spawn-cloud.ts (own Redis/NATS, free ports, no demo) with
 * `agents` agent processes of hosts/agents simulated hosts each (a rack per process), every agent with
 * AGENT_METRICS_MAX_INSTANCES=0 (no per-instance series), HA admission control off. Prints:
 * - bring-up: seconds from the bring-up's start until every host is up (the bring-up's own
 *   `ready_seconds`), and the spread of the hosts' registration times;
 * - controller CPU while it only handles the heartbeats of every host: cores used (utime+stime from
 *   /proc/<pid>/stat over CPU_WINDOW_SECONDS, divided by the window), before the creates and again
 *   with every VM ACTIVE;
 * - RSS (VmRSS of /proc/<pid>/status) of the controller, and of each agent before the creates and
 *   with every VM ACTIVE: bytes per VM above the agent's base;
 * - the cost of per-instance metric series: measured in a child process (node --expose-gc) on one
 *   simulated host with SERIES_PROBE_VMS VMs, heap after a scrape with the cap at 0 against the cap
 *   at SERIES_PROBE_VMS, per VM and per series;
 * - `ListServers` (admin, all projects) first page of 1000 and a walk of every page: p50/p99 over
 *   LIST_SAMPLES calls;
 * - one /metrics scrape of the controller and of one agent: p50/max over SCRAPE_SAMPLES.
 * The creates go through ComputeService.CreateServer with max_count BATCH (Nova's multi-create);
 * the wait for ACTIVE polls the controller's `minicloud_compute_instances` gauge (one hash read),
 * not a listing. Stops the cloud at the end.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { spawnCloud } from '../../../tools/cloud/spawn-cloud';
import { quantile, seedBenchProject } from './bench-project';
import { manifestTls } from '../../../tools/cloud/seed';
import type { CloudManifest } from '../../../tools/cloud/manifest';
import { ImageCache, profileByName } from '@minicloud/domain-hypervisor';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { registerAgentMetrics } from '../../compute-agent/src/agent-metrics';
import { SimulatedHost } from '../../compute-agent/src/simulated-host';
import { parseWorkload } from '../../compute-agent/src/workload-spec';

const ROOT = path.resolve(__dirname, '../../..');
const CPU_WINDOW_SECONDS = 10;
const LIST_SAMPLES = 50;
const SCRAPE_SAMPLES = 10;
const SERIES_PROBE_VMS = 200;
/** Servers per CreateServer request (max_count). */
const BATCH = 10;
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (sysconf(_SC_CLK_TCK), 100 on Linux). */
const CLK_TCK = 100;

type Proc = CloudManifest['processes'][number];

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is index 0, so utime (field 14) is 11 and stime (15) is 12.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Cores used by each process over `seconds` (CPU seconds / wall seconds). */
async function coresUsed(pids: number[], seconds: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return pids.map((p, i) => (cpuSeconds(p) - before[i]) / wall);
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
const loadavg = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

async function scrape(p: Proc, token?: string): Promise<{ ms: number; text: string }> {
  const t0 = performance.now();
  const text = await fetch(`${p.metrics_url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then((r) => r.text());
  return { ms: performance.now() - t0, text };
}

/** Count of instances by vm_state from the controller's `minicloud_compute_instances` gauge. */
function instancesByState(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metricsText.matchAll(/^minicloud_compute_instances\{[^}]*vm_state="([^"]+)"[^}]*\} ([0-9.e+-]+)$/gm)) out.set(m[1], Number(m[2]));
  return out;
}

/** Latencies (ms, sorted) of `n` sequential calls of `fn`. */
async function timeCalls(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

const pq = (xs: readonly number[]) => `p50 ${quantile(xs, 0.5).toFixed(1)} ms, p99 ${quantile(xs, 0.99).toFixed(1)} ms (n=${xs.length})`;

/**
 * The per-instance series probe (run as a child with --expose-gc): heap bytes held after one scrape
 * of one host with `n` VMs, with the cap at 0 and at n. Prints JSON {vms, series, heapOffBytes, heapOnBytes}.
 */
async function seriesProbe(n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  let now = Date.UTC(2011, 2, 3);
  const timers: { at: number; fn: () => void }[] = [];
  const clock = {
    nowMs: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimeout: (h: unknown) => void timers.splice(timers.indexOf(h as (typeof timers)[number]), 1),
  };
  const images = { cache: new ImageCache(2 ** 40), acquire: async () => ({ cached: true, sizeBytes: 2 ** 30 }), release: () => undefined, cachedImageIds: () => ['img'] };
  const host = new SimulatedHost({ profile: profileByName('large-2s64c-512g', 'probe-host'), clock, images, report: () => undefined });
  host.setEpoch(1);
  for (let i = 0; i < n; i++) {
    host.execute(1, `vm-${i}`, {
      type: 'spawn',
      spec: { instanceId: `vm-${i}`, flavor: { vcpus: 1, ramMb: 256, diskGb: 1 }, image: { imageId: 'img', sha256: '' }, workload: parseWorkload('constant:0.1', i), portIds: [`port-${i}`], volumeIds: [] },
    });
  }
  await new Promise((r) => setImmediate(r));
  now += 10_000;
  for (const t of timers.splice(0).sort((a, b) => a.at - b.at)) t.fn();
  host.tick();
  const heapAfterScrape = async (cap: number) => {
    const metrics = createProcessMetrics({ service: `probe-${cap}` });
    registerAgentMetrics(metrics.registry, [host], () => [], cap);
    const text = await metrics.registry.metrics();
    gc();
    gc();
    const heap = process.memoryUsage().heapUsed;
    return { heap, series: text.split('\n').filter((l) => l.startsWith('minicloud_instance_')).length, metrics };
  };
  // Each registry is kept alive until both are measured, so the second does not reuse the first's heap.
  const off = await heapAfterScrape(0);
  const on = await heapAfterScrape(n);
  console.log(JSON.stringify({ vms: host.modelSnapshot().vms.size, series: on.series, heapOffBytes: off.heap, heapOnBytes: on.heap }));
  void [off.metrics, on.metrics];
}

async function main(): Promise<void> {
  const [hosts, vms, agents, concurrency, waitSeconds] = [1000, 10000, 10, 50, 3600].map((d, i) => Number(process.argv[2 + i] ?? d));
  if (hosts % agents) throw new Error(`hosts (${hosts}) must be a multiple of agents (${agents})`);
  console.log(`bench:scale hosts=${hosts} (${agents} agents x ${hosts / agents}) vms=${vms}; load average at start ${loadavg()}`);

  const probe = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', __filename, '--series-probe', String(SERIES_PROBE_VMS)], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!,
  ) as { vms: number; series: number; heapOffBytes: number; heapOnBytes: number };

  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minicloud-scale-'));
  const t0 = Date.now();
  const cloud = await spawnCloud(
    stateDir,
    ['--agents', String(agents), '--hosts-per-agent', String(hosts / agents), '--no-demo', '--log-level', 'info'],
    { HA_HOST_FAILURES_TO_TOLERATE: '0', AGENT_METRICS_MAX_INSTANCES: '0' },
    Math.max(180_000, hosts * 300),
  );
  const broughtUpSeconds = (Date.now() - t0) / 1000;
  const manifest = cloud.manifest;
  try {
    // A /16 holds 65,534 addresses: room for any VM count this bench is run with.
    const { imageId, networkId, token } = seedBenchProject(manifest, stateDir, { flavorName: 's1.unit', imageName: 'scale-img', networkName: 'scale-net', cidr: '10.64.0.0/16' });
    const controller = manifest.processes.find((p) => p.name === 'controller')!;
    const agentProcs = manifest.processes.filter((p) => p.kind === 'compute-agent');
    const c = createServiceClient(compute.ComputeServiceService, controller.grpc_address, { token: () => token, deadlineMs: 300_000, tls: manifestTls(manifest) });

    const hostList = (await c.listHosts({})).hosts;
    const registered = hostList.map((h) => h.registeredAt?.getTime() ?? 0).filter(Boolean).sort((a, b) => a - b);
    console.log(`bring-up: ${hostList.length} hosts up; cloud ready in ${manifest.ready_seconds.toFixed(1)} s (bench saw ${broughtUpSeconds.toFixed(1)} s); host registrations spread over ${((registered.at(-1)! - registered[0]) / 1000).toFixed(1)} s`);

    const idleCores = await coresUsed([controller.pid, agentProcs[0].pid], CPU_WINDOW_SECONDS);
    console.log(`controller CPU, heartbeats of ${hosts} hosts and no VMs: ${idleCores[0].toFixed(3)} cores (one agent of ${hosts / agents} hosts: ${idleCores[1].toFixed(3)}) over ${CPU_WINDOW_SECONDS} s; load average ${loadavg()}`);
    const agentBase = agentProcs.map((p) => rssBytes(p.pid));
    const controllerBase = rssBytes(controller.pid);

    const started = Date.now();
    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: Math.max(1, Math.floor(concurrency / BATCH)) }, async () => {
        while (next < vms) {
          const count = Math.min(BATCH, vms - next);
          const i = next;
          next += count;
          try {
            await c.createServer({ name: `s-${i}`, flavorRef: 's1.unit', imageRef: imageId, networks: [{ networkId }], minCount: count, maxCount: count });
          } catch (e) {
            failures.push(e instanceof Error ? e.message : String(e));
          }
        }
      }),
    );
    const acceptedSeconds = (Date.now() - started) / 1000;
    console.log(`accepted ${vms - failures.length * BATCH} creates (${BATCH} per request) in ${acceptedSeconds.toFixed(1)} s; refused requests: ${failures.length}${failures.length ? ` (first: ${failures[0]})` : ''}`);
    let states = new Map<string, number>();
    for (;;) {
      states = instancesByState((await scrape(controller, manifest.metrics_bearer_token)).text);
      const settled = (states.get('active') ?? 0) + (states.get('error') ?? 0);
      if (settled >= vms - failures.length * BATCH) break;
      if (Date.now() - started > waitSeconds * 1000) {
        console.log(`TIMEOUT after ${waitSeconds} s: ${JSON.stringify(Object.fromEntries(states))}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    const active = states.get('active') ?? 0;
    console.log(`settled in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(Object.fromEntries(states))}; load average ${loadavg()}`);

    const busyCores = await coresUsed([controller.pid, agentProcs[0].pid], CPU_WINDOW_SECONDS);
    console.log(`controller CPU, heartbeats of ${hosts} hosts with ${active} VMs ACTIVE: ${busyCores[0].toFixed(3)} cores (one agent: ${busyCores[1].toFixed(3)}) over ${CPU_WINDOW_SECONDS} s; load average ${loadavg()}`);
    console.log(`controller RSS: ${mb(rssBytes(controller.pid))} (${mb(controllerBase)} before the creates)`);
    const perVm = agentProcs.map((p, i) => (rssBytes(p.pid) - agentBase[i]) / (active / agents));
    console.log(
      `agent RSS (per-instance series off): base ${mb(Math.min(...agentBase))}..${mb(Math.max(...agentBase))}; above base per VM ${((perVm.reduce((a, b) => a + b, 0) / perVm.length) / 1024).toFixed(1)} KB mean, ${(Math.max(...perVm) / 1024).toFixed(1)} KB max (${(active / agents).toFixed(0)} VMs per agent)`,
    );
    const seriesPerVm = probe.series / probe.vms;
    console.log(
      `per-instance series (probe, ${probe.vms} VMs on one host): ${seriesPerVm.toFixed(0)} series per VM, heap ${(((probe.heapOnBytes - probe.heapOffBytes) / probe.vms) / 1024).toFixed(1)} KB per VM (${((probe.heapOnBytes - probe.heapOffBytes) / probe.series).toFixed(0)} bytes per series) after a scrape`,
    );

    const firstPage = await timeCalls(LIST_SAMPLES, () => c.listServers({ allProjects: true, page: { pageSize: 1000 } }));
    console.log(`server list, first page of 1000 (of ${active}): ${pq(firstPage)}`);
    const firstPage100 = await timeCalls(LIST_SAMPLES, () => c.listServers({ allProjects: true, page: { pageSize: 100 } }));
    console.log(`server list, first page of 100: ${pq(firstPage100)}`);
    let walked = 0;
    const walk = await timeCalls(3, async () => {
      let pageToken = '';
      walked = 0;
      do {
        const r = await c.listServers({ allProjects: true, page: { pageSize: 1000, pageToken } });
        walked += r.servers.length;
        pageToken = r.page?.nextPageToken ?? '';
      } while (pageToken);
    });
    console.log(`server list, every page of 1000 (${walked} servers): ${pq(walk)}`);

    for (const p of [controller, agentProcs[0]]) {
      const samples: number[] = [];
      let bytes = 0;
      for (let i = 0; i < SCRAPE_SAMPLES; i++) {
        const s = await scrape(p, manifest.metrics_bearer_token);
        samples.push(s.ms);
        bytes = s.text.length;
      }
      samples.sort((a, b) => a - b);
      console.log(`/metrics scrape of ${p.name} (${(bytes / 1024).toFixed(0)} KB): p50 ${quantile(samples, 0.5).toFixed(1)} ms, max ${samples.at(-1)!.toFixed(1)} ms`);
    }
    console.log(`load average at end ${loadavg()}`);
    c.close();
  } finally {
    await cloud.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--series-probe') {
  seriesProbe(Number(process.argv[3])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
