/**
 * The OpenStack REST front against the gRPC path it translates to:
 * `npm run bench:openstack-api -- [servers] [listServers] [concurrency]` (defaults 1000, 10000, 20).
 *
 * Brings up a cloud (4 agents x 25 simulated hosts, no demo; tools/cloud/spawn-cloud.ts), lifts the
 * admin project's quota, seeds a flavor, a 16 MB qcow2 image and a network, then:
 * 1. creates `servers` servers, alternating Nova's `POST /compute/v2.1/servers` and
 *    ComputeService.CreateServer, `concurrency` requests in flight, and prints each path's request
 *    latency p50/p99 (until the 202 / the RPC's answer: the create is accepted, not yet ACTIVE);
 * 2. with those servers existing, lists them 20 times each way (`GET /servers/detail?limit=1000`
 *    against ListServers with a 1,000 page) and prints p50/p99;
 * 3. grows the cloud to `listServers` servers (gRPC creates; 0 skips this step) and walks the
 *    whole list page by page both ways (Nova's `servers_links` `next` with limit=1000; gRPC page
 *    tokens), printing pages, total time and per-page p50/p99.
 * Prints the machine's load average beside the figures: they are wall-clock times.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Agent, setGlobalDispatcher } from 'undici';
import { adminSession, manifestTls, seedFlavors, uploadQcow2Image } from '../cloud/seed';
import { spawnCloud } from '../cloud/spawn-cloud';

const [servers, listServers, concurrency] = [1000, 10000, 20].map((d, i) => Number(process.argv[2 + i] ?? d));

/** The q-quantile of sorted milliseconds (nearest rank). */
function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `${label.padEnd(34)} n=${String(s.length).padStart(5)}  p50=${quantile(s, 0.5).toFixed(1).padStart(7)} ms  p99=${quantile(s, 0.99).toFixed(1).padStart(7)} ms  max=${s[s.length - 1].toFixed(1)} ms`;
}

async function timed<T>(out: number[], f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    out.push(performance.now() - t);
  }
}

/** Runs `n` jobs with `c` in flight. */
async function pool(n: number, c: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(c, n) }, async () => {
    while (next < n) await job(next++);
  }));
}

async function main(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minicloud-api-bench-'));
  const cloud = await spawnCloud(stateDir, ['--agents', '4', '--hosts-per-agent', '25', '--no-demo'], { HA_HOST_FAILURES_TO_TOLERATE: '0' });
  const m = cloud.manifest;
  const api = m.openstack_api_url!;
  // The front serves HTTPS with the cloud's CA: fetch() below verifies with it.
  if (m.tls) setGlobalDispatcher(new Agent({ connect: { ca: fs.readFileSync(m.tls.ca_file) } }));
  const admin = await adminSession(m.identity_url, m.admin.user, m.admin.password, m.admin.project, manifestTls(m));
  try {
    await admin.identity.setQuota({ projectId: admin.projectId, limits: { instances: -1, cores: -1, ram_mb: -1 } });
    await seedFlavors(admin);
    const imageId = await uploadQcow2Image(admin, path.join(stateDir, 'img'), 'bench-img', '16M');
    const net = (await admin.network.createNetwork({ name: 'bench-net' })).network!;
    await admin.network.createSubnet({ networkId: net.id, name: 'bench-subnet', cidr: '10.64.0.0/16' });
    const headers = { 'x-auth-token': admin.token, 'content-type': 'application/json' };
    const rest = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(p.startsWith('http') ? p : `${api}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : undefined;
    };
    const grpcCreate = (name: string) => admin.compute.createServer({ name, flavorRef: 'm1.tiny', imageRef: imageId, networks: [{ networkId: net.id }] });
    const restCreate = (name: string) => rest('POST', '/compute/v2.1/servers', { server: { name, flavorRef: 'm1.tiny', imageRef: imageId, networks: [{ uuid: net.id }] } });

    console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
    const restMs: number[] = [];
    const grpcMs: number[] = [];
    await pool(servers, concurrency, async (i) => {
      if (i % 2 === 0) await timed(restMs, () => restCreate(`r-${i}`));
      else await timed(grpcMs, () => grpcCreate(`g-${i}`));
    });
    console.log(`create (accepted), ${servers} servers, ${concurrency} in flight:`);
    console.log(summary('  REST POST /servers', restMs));
    console.log(summary('  gRPC CreateServer', grpcMs));

    const restList: number[] = [];
    const grpcList: number[] = [];
    for (let i = 0; i < 20; i++) {
      await timed(restList, () => rest('GET', '/compute/v2.1/servers/detail?limit=1000'));
      await timed(grpcList, () => admin.compute.listServers({ page: { pageSize: 1000 } }));
    }
    console.log(`list of ${servers} servers (one page of up to 1,000, detail):`);
    console.log(summary('  REST GET /servers/detail', restList));
    console.log(summary('  gRPC ListServers', grpcList));

    if (listServers > servers) {
      const t = performance.now();
      await pool(listServers - servers, 50, async (i) => {
        await grpcCreate(`x-${i}`);
      });
      console.log(`grew to ${listServers} servers in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const restPages: number[] = [];
      let url: string | undefined = '/compute/v2.1/servers/detail?limit=1000';
      let restCount = 0;
      const tRest = performance.now();
      while (url) {
        const page: { servers: unknown[]; servers_links?: { rel: string; href: string }[] } = await timed(restPages, () => rest('GET', url!));
        restCount += page.servers.length;
        url = page.servers_links?.find((l) => l.rel === 'next')?.href;
      }
      const restTotal = performance.now() - tRest;
      const grpcPages: number[] = [];
      let token = '';
      let grpcCount = 0;
      const tGrpc = performance.now();
      do {
        const page = await timed(grpcPages, () => admin.compute.listServers({ page: { pageSize: 1000, pageToken: token } }));
        grpcCount += page.servers.length;
        token = page.page?.nextPageToken ?? '';
      } while (token);
      const grpcTotal = performance.now() - tGrpc;
      console.log(`paginated list of ${listServers} servers, pages of 1,000:`);
      console.log(`  REST  ${restCount} servers in ${restPages.length} pages, ${(restTotal / 1000).toFixed(2)} s;${summary(' per page', restPages).slice(9)}`);
      console.log(`  gRPC  ${grpcCount} servers in ${grpcPages.length} pages, ${(grpcTotal / 1000).toFixed(2)} s;${summary(' per page', grpcPages).slice(9)}`);
    }
    console.log(`load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    admin.close();
    await cloud.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
