/**
 * Chaos, controller failover: kill -9 the leader controller during a burst of 100 creates. A replica
 * takes over; every create that was acknowledged ends ACTIVE or in a clear ERROR; none stuck in a
 * task_state, none duplicated (client tokens make retries idempotent).
 * Then the CLI (a catalog with several compute endpoints): a new replica registers (first in the catalog),
 * the CLI logs in and uses it, the replica is killed, and the CLI's next commands fail over to the other.
 * And the OpenStack REST front as two replicas behind the bring-up's balancer: new connections reach
 * both, a token issued through one is honoured by the other, and with one killed the API still answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import Redis from 'ioredis';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { findFreePort } from '@minicloud/testing';
import { portOpen } from '../../../../tools/cloud/local-servers';
import { ROOT, sampleSum, scrape } from '../cloud-harness';
import { activeOrFaulted, processSpec, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(180_000);

describe('chaos: leader controller killed during a burst of creates', () => {
  let cc: ChaosCloud;
  let redis: Redis;

  beforeAll(async () => {
    // A create that dies holding a client token gives it up to a retry after 5 s (default 30 s).
    cc = await startChaosCloud({ agents: 3, controllers: 2, apiReplicas: 2, env: { CLIENT_TOKEN_LEASE_SECONDS: '5' } });
    redis = new Redis(cc.cloud.manifest.redis_url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await cc?.stop();
  });

  it('3. a replica takes over; acknowledged creates end ACTIVE or ERROR, none stuck, none duplicated', async () => {
    const leaderPid = async () => Number(/^pid-(\d+)-/.exec((await redis.get('mc:controller:leader')) ?? '')?.[1] ?? 0);
    const controllers = cc.cloud.manifest.processes.filter((p) => p.kind === 'controller');
    expect(controllers).toHaveLength(2);
    const oldLeader = await until('a leader', async () => {
      const pid = await leaderPid();
      return controllers.some((c) => c.pid === pid) ? pid : undefined;
    }, 20_000);

    // The burst goes to the leader first (pick_first over [leader, other]): its in-flight creates die with it.
    const ordered = [...controllers].sort((a) => (a.pid === oldLeader ? -1 : 1)).map((c) => c.grpc_address);
    const client = createServiceClient(compute.ComputeServiceService, `ipv4:${ordered.join(',')}`, { token: () => cc.token, deadlineMs: 30_000 });
    const tokens = Array.from({ length: 100 }, () => randomUUID());
    const create = (token: string, i: number) =>
      client.createServer({ name: `burst-${i}`, flavorRef: 'm1.tiny', imageRef: cc.imageId, networks: [{ networkId: cc.networkId }], clientToken: token });
    const acked = new Map<string, string>();
    let sent = 0;
    const burst = tokens.map(async (token, i) => {
      await new Promise((r) => setTimeout(r, i * 30)); // ~3 s of creates
      sent++;
      try {
        const res = await create(token, i);
        acked.set(token, res.servers[0].id);
      } catch {
        /* not acknowledged (the replica died under it); retried below with the same client token */
      }
    });
    await until('a third of the burst sent', async () => sent >= 30, 30_000, 20);
    process.kill(oldLeader, 'SIGKILL');
    const killedAt = Date.now();
    await Promise.all(burst);
    const newLeader = await until('a new leader', async () => {
      const pid = await leaderPid();
      return pid && pid !== oldLeader ? pid : undefined;
    }, 20_000);
    console.log(`chaos 3: leader ${oldLeader} killed; ${newLeader} leads after ${((Date.now() - killedAt) / 1000).toFixed(1)} s; ${acked.size}/100 acknowledged before retries`);
    // Unacknowledged creates retried with the same client token: idempotent (no duplicate). A token the
    // dead replica had reserved without creating anything passes to the retry once its lease expires,
    // so every create ends acknowledged, once.
    for (const [i, token] of tokens.entries()) {
      if (acked.has(token)) continue;
      const res = await until(`retry of create ${i}`, async () => create(token, i), 30_000, 500);
      acked.set(token, res.servers[0].id);
    }
    const ids = [...acked.values()];
    expect(new Set(ids).size).toBe(acked.size);
    expect(acked.size).toBe(100);
    const settled = await waitAll(cc, ids, activeOrFaulted, 90_000, '100 creates ACTIVE or ERROR with a fault');
    const errors = settled.filter((s) => s.vmState === compute.VmState.VM_STATE_ERROR);
    console.log(`chaos 3: ${settled.length - errors.length} ACTIVE, ${errors.length} ERROR (${[...new Set(errors.map((e) => e.fault?.message))].join('; ')})`);
    const all = (await cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers.filter((s) => s.name.startsWith('burst-'));
    expect(all).toHaveLength(acked.size); // none duplicated, none created without an acknowledgement
    cc.checker.checkAcknowledged(ids, all);
    await cc.checker.sampleAllocations();
    expect(cc.checker.violations).toEqual([]);
    client.close();
  });

  it('the CLI fails over to another replica from the catalog when the one it used is killed', async () => {
    // A third replica (a copy of a live one on new ports) registers last: first in the catalog.
    const live = cc.cloud.manifest.processes.filter((p) => p.kind === 'controller').find((p) => fs.existsSync(`/proc/${p.pid}`) && !fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8').includes(') Z'))!;
    const spec = processSpec(live.pid);
    const port = await findFreePort();
    const log = fs.openSync(path.join(cc.cloud.stateDir, 'controller-3.log'), 'a');
    const child: ChildProcess = spawn(spec.argv[0], spec.argv.slice(1), { cwd: ROOT, env: { ...spec.env, GRPC_PORT: String(port), METRICS_PORT: String(await findFreePort()) }, stdio: ['ignore', log, log] });
    try {
      const first = async () => {
        const r = await cc.cloud.cli(['login']);
        if (r.code !== 0) return undefined;
        const creds = JSON.parse(fs.readFileSync(path.join(cc.cloud.stateDir, 'cli', 'credentials.json'), 'utf8')) as { catalog: { service_type: string; url: string }[] };
        return creds.catalog.find((e) => e.service_type === 'compute')?.url.endsWith(`:${port}`);
      };
      await until('the new replica first in the CLI catalog', first, 30_000, 500);
      const before = await cc.cloud.cli(['host', 'list', '-f', 'json']);
      expect(before.code).toBe(0);
      child.kill('SIGKILL');
      await until('new replica gone', async () => child.exitCode !== null || child.signalCode !== null, 5000, 20);
      for (const args of [['host', 'list', '-f', 'json'], ['server', 'list', '--all-projects', '-f', 'json']]) {
        const r = await cc.cloud.cli(args);
        expect([r.code, r.stderr]).toEqual([0, '']);
      }
      expect(JSON.parse((await cc.cloud.cli(['host', 'list', '-f', 'json'])).stdout)).toHaveLength(3);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the OpenStack REST front as two replicas: one address reaches both, a token of one works at the other, one killed leaves it answering', async () => {
    const m = cc.cloud.manifest;
    cloudCa = m.tls ? fs.readFileSync(m.tls.ca_file) : undefined;
    const replicas = m.openstack_api_replicas!;
    expect(replicas).toHaveLength(2);
    expect(m.processes.filter((p) => p.kind === 'openstack-api').map((p) => p.http_url).sort()).toEqual(replicas.map((r) => r.http_url).sort());
    const api = m.openstack_api_url!;
    expect(replicas.map((r) => r.http_url)).not.toContain(api);

    // Issued through the balancer: the catalog names its one address, whichever replica answered.
    const viaBalancer = await login(api, m.admin);
    expect(viaBalancer.catalogUrls.length).toBeGreaterThan(0);
    for (const url of viaBalancer.catalogUrls) expect(url.startsWith(`${api}/`)).toBe(true);

    // Issued by one replica, honoured by the other (no replica keeps tokens of its own).
    const [first, second] = replicas.map((r) => r.http_url);
    const token = (await login(first, m.admin)).token;
    expect(await status(`${second}/compute/v2.1/servers`, token)).toBe(200);
    expect(await status(`${second}/identity/v3/auth/tokens`, token, { 'x-subject-token': token })).toBe(200);
    expect(await status(`${second}/compute/v2.1/servers`, 'not-a-token')).toBe(401);

    // Each new connection through the balancer goes to the next replica: six requests reach both.
    const answered = async () => Promise.all(replicas.map(async (r) => sampleSum(await scrape(r.metrics_url, cc.cloud.manifest.metrics_bearer_token), 'minicloud_openstack_api_requests_total', { route: '/compute/v2.1/servers', method: 'GET' }) || 0));
    const before = await answered();
    for (let i = 0; i < 6; i++) expect(await status(`${api}/compute/v2.1/servers`, token)).toBe(200);
    const deltas = await until('both replicas counted the six requests', async () => {
      const d = (await answered()).map((n, i) => n - before[i]);
      return d[0] + d[1] === 6 ? d : undefined;
    }, 10_000, 100);
    expect(deltas).toEqual([3, 3]);

    // One replica killed: every request through the one address is still answered (a refused
    // connect goes to the other replica, and the health check takes the dead one out).
    const victim = m.processes.find((p) => p.http_url === first)!;
    process.kill(victim.pid, 'SIGKILL');
    // Gone once its port refuses connections: a killed process's leader thread shows as a zombie while
    // its other threads still hold the listening socket, whose queued connections are then reset.
    const victimPort = Number(new URL(first).port);
    await until('replica gone', async () => !(await portOpen(victimPort)), 5000, 20);
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push(await status(`${api}/compute/v2.1/servers`, token));
    expect(statuses).toEqual(Array(10).fill(200));
    expect((await login(api, m.admin)).token).toBeTruthy();
  });
});

/** Password login of the cloud's admin at `base` (Keystone v3): the token and its catalog's endpoint URLs. */
async function login(base: string, admin: { user: string; password: string; project: string }): Promise<{ token: string; catalogUrls: string[] }> {
  const res = await fetch(`${base}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: admin.user, domain: { name: 'Default' }, password: admin.password } } },
        scope: { project: { name: admin.project, domain: { name: 'Default' } } },
      },
    }),
  });
  const body = (await res.json()) as { token: { catalog: { endpoints: { url: string }[] }[] } };
  expect(res.status).toBe(201);
  return { token: res.headers.get('x-subject-token')!, catalogUrls: body.token.catalog.flatMap((e) => e.endpoints.map((x) => x.url)) };
}

/** The cloud's CA (PEM) when its REST front is HTTPS: `status` verifies the front with it. */
let cloudCa: Buffer | undefined;

/** Status of a GET on a connection of its own (no keep-alive pool: the balancer picks a replica per connection). */
function status(url: string, token: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    (url.startsWith('https:') ? https : http)
      .get(url, { agent: false, ca: cloudCa, headers: { 'x-auth-token': token, ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}
