/**
 * The whole cloud stopped (as Ctrl-C does) and started again with `--keep-state`: the agents come
 * back as the same hosts holding no VMs, and the controller's power sync makes the records say so.
 * Without resume_guests_state_on_host_boot every server is SHUTOFF (vm_state stopped, power_state
 * nostate) and `server start` boots it again; with it, every server that was running runs again on
 * its host. Either way no server claims to run where no VM runs (checked VM by VM against each
 * agent's ListInstances). Prints the time from the restarted cloud's "ready" to the last record made
 * true (from the instance actions log, the controller's own clock).
 */
import fs from 'node:fs';
import path from 'node:path';
import { agent, compute } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { sampleSum, scrape, seedTinyCloud, startCloud, type RunningCloud } from './cloud-harness';
import { until } from './chaos/chaos-kit';

jest.setTimeout(600_000);

const SERVERS = 8;

describe('whole-cloud restart with kept state', () => {
  let cloud: RunningCloud;
  let ids: string[] = [];
  /** Host of each server before the first restart (a restart never moves a server). */
  const hostOf = new Map<string, string>();

  const cli = (...args: string[]) => cloud.run(args);
  /** A fresh admin token (the CLI logs in against the current run). */
  const token = async () => {
    await cli('login');
    return JSON.parse(fs.readFileSync(path.join(cloud.stateDir, 'cli', 'credentials.json'), 'utf8')).token as string;
  };
  /** Calls `fn` with the current run's compute client and each agent's HypervisorService client. */
  const withClients = async <T>(fn: (c: { compute: ReturnType<typeof computeClient>; agents: { hostId: string; client: ReturnType<typeof agentClient> }[] }) => Promise<T>): Promise<T> => {
    const t = await token();
    const controller = cloud.manifest.processes.find((p) => p.kind === 'controller')!;
    const c = computeClient(controller.grpc_address, t);
    const agents = cloud.manifest.processes.filter((p) => p.kind === 'compute-agent').flatMap((p) => (p.host_ids ?? []).map((hostId) => ({ hostId, client: agentClient(p.grpc_address, t) })));
    try {
      return await fn({ compute: c, agents });
    } finally {
      c.close();
      agents.forEach((a) => a.client.close());
    }
  };
  const servers = async (c: ReturnType<typeof computeClient>) => (await c.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers.filter((s) => ids.includes(s.id));

  /**
   * The invariant: a server whose record says running (or paused) has that VM on its recorded host,
   * and every VM an agent holds belongs to a server recorded on that host. Returns the violations.
   */
  const claimsWithoutVm = async (c: ReturnType<typeof computeClient>, agents: { hostId: string; client: ReturnType<typeof agentClient> }[]) => {
    const held = new Map<string, Set<string>>();
    for (const a of agents) held.set(a.hostId, new Set((await a.client.listInstances({ hostId: a.hostId })).instances.map((i) => i.instanceId)));
    const violations: string[] = [];
    for (const s of await servers(c)) {
      const claims = s.powerState === compute.PowerState.POWER_STATE_RUNNING || s.powerState === compute.PowerState.POWER_STATE_PAUSED;
      if (claims && !held.get(s.hostId)?.has(s.id)) violations.push(`${s.name} claims ${compute.powerStateToJSON(s.powerState)} on ${s.hostId}, which holds no such VM`);
    }
    for (const [hostId, vms] of held) for (const id of vms) if (hostOf.get(id) !== hostId) violations.push(`${hostId} holds ${id}, recorded elsewhere`);
    return violations;
  };

  /** The time (controller clock) the power sync last changed one of the servers, from the actions log. */
  const lastSyncMs = async (c: ReturnType<typeof computeClient>, action: string) => {
    let last = 0;
    for (const id of ids) {
      const a = (await c.listInstanceActions({ serverId: id })).actions.filter((x) => x.action === action && x.userId === 'power-sync').at(-1);
      if (!a) throw new Error(`server ${id} has no ${action} action by power-sync`);
      last = Math.max(last, (a.finishTime ?? a.startTime)!.getTime());
    }
    return last;
  };

  const runningVmsMetric = async () => {
    let sum = 0;
    for (const p of cloud.manifest.processes.filter((x) => x.kind === 'compute-agent')) sum += sampleSum(await scrape(p.metrics_url, cloud.manifest.metrics_bearer_token), 'minicloud_host_running_vms');
    return sum;
  };

  beforeAll(async () => {
    cloud = await startCloud({ agents: 3 });
    await cli('login');
    await seedTinyCloud(cloud, { network: 'restart-net', cidr: '10.40.0.0/24' });
    const created = JSON.parse(await cli('server', 'create', 'web', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'restart-net', '--count', String(SERVERS), '--wait', '--timeout', '120', '-f', 'json'));
    ids = created.map((s: { id: string }) => s.id);
    for (const s of created as { id: string; host_id: string; status: string }[]) {
      expect(s.status).toBe('ACTIVE');
      hostOf.set(s.id, s.host_id);
    }
    expect(new Set(hostOf.values()).size).toBeGreaterThan(1);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('without resume_guests_state_on_host_boot: every server SHUTOFF (stopped, nostate) on its host, agents hold nothing, and server start boots them again', async () => {
    await cloud.restart();
    const readyAtMs = cloud.readyAtMs;
    await withClients(async ({ compute: c, agents }) => {
      const all = await until(
        'every server stopped with power_state nostate',
        async () => {
          const list = await servers(c);
          return list.length === SERVERS && list.every((s) => s.vmState === compute.VmState.VM_STATE_STOPPED && s.powerState === compute.PowerState.POWER_STATE_NOSTATE) && list;
        },
        30_000,
      );
      const doneMs = await lastSyncMs(c, 'stop');
      console.log(`whole-cloud restart: "ready" -> last server stopped/nostate: ${((doneMs - readyAtMs) / 1000).toFixed(2)} s (negative: done before "ready" was printed)`);
      for (const s of all) expect([s.name, s.hostId, s.taskState]).toEqual([s.name, hostOf.get(s.id), compute.TaskState.TASK_STATE_UNSPECIFIED]);
      expect(await claimsWithoutVm(c, agents)).toEqual([]);
      for (const a of agents) expect((await a.client.listInstances({ hostId: a.hostId })).instances).toEqual([]);
      const actions = (await c.listInstanceActions({ serverId: ids[0] })).actions.map((a) => [a.action, a.userId, a.result]);
      expect(actions.at(-1)).toEqual(['stop', 'power-sync', 'Success']);
    });
    const table = await cli('server', 'list', '--all-projects');
    expect(table.split('\n').filter((l) => l.includes('web-')).map((l) => /SHUTOFF/.test(l))).toEqual(Array(SERVERS).fill(true));
    expect(await runningVmsMetric()).toBe(0);

    await cli('server', 'start', ...ids, '--wait', '--timeout', '120');
    await withClients(async ({ compute: c, agents }) => {
      const list = await servers(c);
      expect(list.map((s) => [s.status, s.powerState, s.hostId])).toEqual(list.map((s) => ['ACTIVE', compute.PowerState.POWER_STATE_RUNNING, hostOf.get(s.id)]));
      expect(await claimsWithoutVm(c, agents)).toEqual([]);
    });
    await until('agents report every VM running', async () => (await runningVmsMetric()) === SERVERS, 15_000);
  });

  it('with resume_guests_state_on_host_boot: every server that was running runs again on its host, agents\' VM counts match', async () => {
    await cloud.restart({ env: { RESUME_GUESTS_STATE_ON_HOST_BOOT: 'true' } });
    const readyAtMs = cloud.readyAtMs;
    await withClients(async ({ compute: c, agents }) => {
      await until(
        'every server ACTIVE and running again',
        async () => {
          const list = await servers(c);
          return list.length === SERVERS && list.every((s) => s.status === 'ACTIVE' && s.powerState === compute.PowerState.POWER_STATE_RUNNING && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED);
        },
        60_000,
      );
      const doneMs = await lastSyncMs(c, 'start');
      console.log(`whole-cloud restart with resume_guests_state_on_host_boot: "ready" -> last server running again: ${((doneMs - readyAtMs) / 1000).toFixed(2)} s`);
      const list = await servers(c);
      expect(list.map((s) => s.hostId)).toEqual(list.map((s) => hostOf.get(s.id)));
      expect(await claimsWithoutVm(c, agents)).toEqual([]);
      const perHost = new Map<string, number>();
      for (const s of list) perHost.set(s.hostId, (perHost.get(s.hostId) ?? 0) + 1);
      await until(
        'each host lists as many running VMs as servers recorded there',
        async () => (await c.listHosts({})).hosts.every((h) => h.runningVms === (perHost.get(h.id) ?? 0)),
        15_000,
      );
    });
    await until('agents report every VM running', async () => (await runningVmsMetric()) === SERVERS, 15_000);
  });
});

function computeClient(address: string, token: string) {
  return createServiceClient(compute.ComputeServiceService, address, { token: () => token, deadlineMs: 30_000 });
}

function agentClient(address: string, token: string) {
  return createServiceClient(agent.HypervisorServiceService, address, { token: () => token, deadlineMs: 10_000 });
}
