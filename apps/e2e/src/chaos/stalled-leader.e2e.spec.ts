/**
 * Chaos, a stalled HA leader (one cloud: 3 agents, 2 controllers): an agent with 6 HA VMs is killed,
 * and the leader controller is SIGSTOPped in the middle of the evacuation, the moment it claims its
 * first destination (restarts are rate-limited to one a second, so five more are still waiting). The other replica
 * takes the lease over and finishes; then the old leader is SIGCONTed. It wakes still believing it
 * leads, with its loops' state of before the stop; every write it tries carries its old fencing token
 * and is refused. The invariant checker asserts: no VM on two hosts, every VM ACTIVE exactly once (one
 * spawn each), one claim per VM on its host and none left behind, no evacuation left open.
 */
import fs from 'node:fs';
import Redis from 'ioredis';
import { compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { bootOnHost, startChaosCloud, until, type ChaosCloud } from './chaos-kit';

jest.setTimeout(120_000);

describe('chaos: the HA leader stalls mid-evacuation and wakes after another took over', () => {
  let cc: ChaosCloud;
  let redis: Redis;

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, controllers: 2, env: { HA_RESTARTS_PER_ZONE_PER_SECOND: '1', HA_RESTART_BURST: '1' } });
    redis = new Redis(cc.cloud.manifest.redis_url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await cc?.stop();
  });

  it('the woken leader cannot double-run the evacuation: every VM ACTIVE once, on one host, no claim leaked', async () => {
    const t0 = Date.now();
    const ids = await bootOnHost(cc, 'host-1', 6);
    const controllers = cc.cloud.manifest.processes.filter((p) => p.kind === 'controller');
    const leaderPid = async () => Number(/^pid-(\d+)-/.exec((await redis.get('mc:controller:leader')) ?? '')?.[1] ?? 0);
    const stalled = await until('a leader', async () => {
      const pid = await leaderPid();
      return controllers.find((c) => c.pid === pid);
    }, 20_000);
    const other = controllers.find((c) => c.pid !== stalled.pid)!;
    // While the leader is stopped its gRPC port accepts connections but answers nothing: talk to the other replica only.
    const api = createServiceClient(compute.ComputeServiceService, other.grpc_address, { token: () => cc.token, deadlineMs: 20_000 });
    const servers = async () => (await api.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers.filter((s) => ids.includes(s.id));
    /** Restarts with a destination recorded and waiting ones. */
    const evacuations = async () => {
      const open = await redis.smembers('mc:controller:ha:evacuations');
      const recs = (await Promise.all(open.map((id) => redis.get(`mc:controller:ha:evacuation:${id}`)))).filter((r): r is string => !!r).map((r) => JSON.parse(r) as { toHostId?: string });
      return { placed: recs.filter((r) => r.toHostId).length, waiting: recs.filter((r) => !r.toHostId).length };
    };
    let sub: Redis | undefined;
    let resumed = true;
    try {
      // Mid-evacuation, at the moment the leader claims its first destination (a Redis keyspace
      // notification of the claim's HSET tells within a millisecond or so), so it stops around the
      // steps that follow: recording the destination and moving the instance.
      await redis.config('SET', 'notify-keyspace-events', 'Kh');
      sub = new Redis(cc.cloud.manifest.redis_url);
      const placedFirst = new Promise<void>((resolve) => {
        sub!.on('pmessage', (_p: string, _channel: string, event: string) => {
          if (event !== 'hset' || !resumed) return;
          process.kill(stalled.pid, 'SIGSTOP');
          resumed = false;
          resolve();
        });
      });
      await sub.psubscribe('__keyspace@0__:mc:controller:host:*:allocations');
      process.kill(cc.agentPid('host-1'), 'SIGKILL');
      cc.checker.hostKilled('host-1');
      const killedAt = cc.checker.reports.length;
      await Promise.race([placedFirst, until('the leader claiming a destination', async () => false, 30_000)]);
      const stoppedAt = Date.now();
      const mid = await evacuations();
      console.log(`stalled leader: pid ${stalled.pid} stopped at its first destination claim; evacuation records: ${mid.placed} placed, ${mid.waiting} waiting`);
      expect(mid.waiting).toBeGreaterThanOrEqual(1);

      const successor = await until('the other replica leads', async () => ((await leaderPid()) === other.pid ? other.pid : undefined), 15_000, 50);
      expect(successor).toBe(other.pid);
      const done = await until(
        'every VM ACTIVE off host-1 and no evacuation open',
        async () => {
          const s = await servers();
          const settled = s.length === ids.length && s.every((x) => x.vmState === compute.VmState.VM_STATE_ACTIVE && x.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && x.hostId && x.hostId !== 'host-1');
          return settled && (await redis.scard('mc:controller:ha:evacuations')) === 0 && s;
        },
        30_000,
      );
      const where = new Map(done.map((s) => [s.id, s.hostId]));
      console.log(`stalled leader: the successor finished the evacuation ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the stop`);

      // Wake the old leader: its overdue ticks run on what it knew before the stop, until its elector sees the lease lost.
      const log = fs.readFileSync(stalled.log, 'utf8');
      const endedBefore = log.split('leadership ended').length;
      process.kill(stalled.pid, 'SIGCONT');
      resumed = true;
      await until('the woken replica steps down', async () => fs.readFileSync(stalled.log, 'utf8').split('leadership ended').length > endedBefore, 15_000, 50);
      // Its loops stop on the leadership's signal; a tick already past its check ends at its first refused write.
      const refused = fs
        .readFileSync(stalled.log, 'utf8')
        .slice(log.length)
        .split('\n')
        .filter((l) => l.includes('no longer holds the leader lease'))
        .map((l) => (JSON.parse(l) as { err?: string }).err);
      console.log(`stalled leader: woke, stepped down; ${refused.length} write(s) refused by the fence${refused.length ? `: ${refused.join('; ')}` : ''}`);
      expect(await leaderPid()).toBe(other.pid);

      // Nothing the woken replica did moved a VM, spawned a second copy or left a claim behind.
      const after = await until('the servers as the successor left them', async () => {
        const s = await servers();
        return s.every((x) => x.vmState === compute.VmState.VM_STATE_ACTIVE && x.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED) && s;
      }, 10_000);
      expect(new Map(after.map((s) => [s.id, s.hostId]))).toEqual(where);
      const spawns = cc.checker.reports.slice(killedAt).filter((r) => ids.includes(r.instanceId) && r.reason === 'spawned');
      expect(ids.map((id) => spawns.filter((r) => r.instanceId === id).length)).toEqual(ids.map(() => 1));
      for (const id of ids) {
        const evacuate = (await api.listInstanceActions({ serverId: id })).actions.filter((a) => a.action === 'evacuate');
        expect(evacuate.map((a) => a.result)).toEqual(['Success']);
      }
      cc.checker.checkAcknowledged(ids, after);
      await cc.checker.checkClaims(after);
      await cc.checker.sampleAllocations();
      expect(cc.checker.violations).toEqual([]);
      console.log(`stalled leader: scenario took ${((Date.now() - t0) / 1000).toFixed(1)} s after the bring-up`);
    } finally {
      if (!resumed) process.kill(stalled.pid, 'SIGCONT');
      sub?.disconnect();
      api.close();
    }
  });
});
