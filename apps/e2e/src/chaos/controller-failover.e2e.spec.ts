/**
 * Chaos, controller failover: kill -9 the leader controller during a burst of 100 creates. A replica
 * takes over; every create that was acknowledged ends ACTIVE or in a clear ERROR; none stuck in a
 * task_state, none duplicated (client tokens make retries idempotent).
 * Then the CLI (a catalog with several compute endpoints): a new replica registers (first in the catalog),
 * the CLI logs in and uses it, the replica is killed, and the CLI's next commands fail over to the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { findFreePort } from '@minicloud/testing';
import { ROOT } from '../cloud-harness';
import { activeOrFaulted, processSpec, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(180_000);

describe('chaos: leader controller killed during a burst of creates', () => {
  let cc: ChaosCloud;
  let redis: Redis;

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, controllers: 2 });
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
    // dead replica had reserved without creating anything stays "in progress" (lifecycle's client-token
    // reservation has no owner lease yet): such a create was never acknowledged and must have no instance.
    const orphanTokens: string[] = [];
    for (const [i, token] of tokens.entries()) {
      if (acked.has(token)) continue;
      try {
        const res = await until(`retry of create ${i}`, async () => create(token, i), 10_000, 500);
        acked.set(token, res.servers[0].id);
      } catch {
        orphanTokens.push(token);
      }
    }
    if (orphanTokens.length) console.log(`chaos 3: ${orphanTokens.length} client token(s) left "in progress" by the killed replica (not acknowledged)`);
    const ids = [...acked.values()];
    expect(new Set(ids).size).toBe(acked.size);
    expect(acked.size).toBeGreaterThanOrEqual(95);
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
});
