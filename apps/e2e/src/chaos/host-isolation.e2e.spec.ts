/**
 * Chaos of HA's isolation response, with real processes: an extra agent whose NATS link
 * (and only it) goes through a TCP proxy the test cuts. NATS, Redis and every other process stay up; the
 * isolated agent keeps renewing its Redis lease and still answers gRPC.
 * 7. ISOLATION_RESPONSE=power_off: the agent powers its VMs off and records it in Redis; the controller
 *    fences the host and restarts the VMs elsewhere (ACTIVE), each started there only after the record
 *    says they were off; the agent's own ListInstances never shows one running while it is ACTIVE
 *    elsewhere; when NATS returns the agent registers afresh and the moved VMs are destroyed there.
 * 8. ISOLATION_RESPONSE=leave_running: nothing is restarted, the VMs keep running where they are, the
 *    host is never fenced, and it is UP again with the same epoch when NATS returns.
 * 9. A Redis blip of one agent longer than SELF_FENCE_AFTER_MS: it self-fences (VMs off), registers
 *    afresh when Redis is back; its heartbeats never stopped, so the controller never fenced it or
 *    restarted anything: the VMs are powered on again on the same host (action `start` by `ha`).
 * The invariant checker runs throughout (`hostCutOff`: the isolated host's reports cannot reach NATS,
 * so its VMs are checked through the agent's own gRPC answers instead).
 */
import Redis from 'ioredis';
import { agent, compute } from '@minicloud/proto';
import { bootOnHost, startChaosCloud, startProxiedAgent, until, waitAll, type ChaosCloud, type ProxiedAgent } from './chaos-kit';

jest.setTimeout(240_000);

const RUNNING = compute.PowerState.POWER_STATE_RUNNING;

describe('chaos: host isolation (only the agent NATS link cut)', () => {
  let cc: ChaosCloud;
  let redis: Redis;
  const agents: ProxiedAgent[] = [];
  const acked: string[] = [];

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, env: { ISOLATION_AFTER_MS: '2000' } });
    redis = new Redis(cc.cloud.manifest.redis_url);
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    redis?.disconnect();
    await cc?.stop();
  });

  afterEach(() => {
    expect(cc.checker.violations).toEqual([]);
  });

  /** Agent `hostId` with its `link` behind a proxy and ISOLATION_RESPONSE `response`, `vms` servers booted on it, and its epoch then. */
  async function isolatableAgentWithVms(hostId: string, response: string, n: number, vms: number, link: 'nats' | 'redis' = 'nats'): Promise<ProxiedAgent & { ids: string[]; epochBefore: number }> {
    const a = await startProxiedAgent(cc, hostId, n, { link, env: { ISOLATION_RESPONSE: response } });
    agents.push(a);
    const ids = await bootOnHost(cc, hostId, vms);
    acked.push(...ids);
    return Object.assign(a, { ids, epochBefore: (await cc.compute.getHost({ hostId })).host!.epoch });
  }

  const runningThere = async (c: { listInstances: (r: { hostId: string }) => Promise<agent.ListInstancesResponse> }, hostId: string) =>
    new Set((await c.listInstances({ hostId })).instances.filter((i) => i.powerState === RUNNING).map((i) => i.instanceId));

  it('7. power_off: VMs off on the isolated host, then ACTIVE elsewhere; it rejoins clean', async () => {
    const { proxy, agentClient, ids, epochBefore } = await isolatableAgentWithVms('host-iso', 'power_off', 7, 4);
    proxy.cut();
    cc.checker.hostCutOff('host-iso');
    const t0 = Date.now();
    // Ground truth from the isolated agent itself (gRPC still works) against the API, sampled throughout.
    const overlaps: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [there, servers] = await Promise.all([runningThere(agentClient, 'host-iso').catch(() => new Set<string>()), cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })]);
        for (const s of servers.servers) {
          if (s.hostId !== 'host-iso' && s.vmState === compute.VmState.VM_STATE_ACTIVE && there.has(s.id)) overlaps.push(`${s.id} ACTIVE on ${s.hostId} and running on host-iso`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await waitAll(cc, ids, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId !== 'host-iso' && s.hostId !== '', 60_000, 'VMs of the isolated host ACTIVE elsewhere');
      console.log(`chaos 7: NATS cut -> last of 4 VMs ACTIVE elsewhere in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      sampling = false;
      await sampler;
    }
    expect(overlaps).toEqual([]);
    // The agent's record: power_off at the epoch it held, every VM listed; the host was fenced.
    const rec = JSON.parse((await redis.get('mc:compute-agent:isolation:host-iso'))!);
    expect(rec).toMatchObject({ epoch: epochBefore, response: 'power_off' });
    expect(ids.every((id) => rec.powered_off_ids.includes(id))).toBe(true);
    expect((await runningThere(agentClient, 'host-iso')).size).toBe(0);
    // Every restart ran (reported running on its new host) only after the VMs were off here.
    for (const id of ids) {
      const started = cc.checker.reports.find((r) => r.instanceId === id && r.hostId !== 'host-iso' && r.powerState === RUNNING);
      expect(started!.meta!.occurredAt!.getTime()).toBeGreaterThanOrEqual(rec.applied_at_ms);
    }
    const actions = (await cc.compute.listInstanceActions({ serverId: ids[0] })).actions.map((a) => a.action);
    expect(actions).toContain('evacuate');
    expect((await cc.compute.getHost({ hostId: 'host-iso' })).host!.state).toBe(compute.HostState.HOST_STATE_FENCED);
    // NATS back: registers afresh, the moved VMs are destroyed there, nothing runs there.
    proxy.restore();
    await until('host-iso rejoined with a new epoch', async () => {
      const h = (await cc.compute.getHost({ hostId: 'host-iso' })).host!;
      return h.state === compute.HostState.HOST_STATE_UP && h.epoch > epochBefore + 1;
    }, 30_000);
    await until('moved VMs destroyed on host-iso', async () => (await agentClient.listInstances({ hostId: 'host-iso' })).instances.length === 0, 15_000);
  });

  it('8. leave_running: nothing restarts, the VMs keep running, the host is never fenced', async () => {
    const { proxy, agentClient, ids, epochBefore } = await isolatableAgentWithVms('host-stay', 'leave_running', 8, 2);
    proxy.cut();
    cc.checker.hostCutOff('host-stay');
    await until('host-stay isolated', async () => (await cc.compute.getHost({ hostId: 'host-stay' })).host!.state === compute.HostState.HOST_STATE_ISOLATED, 20_000);
    await until('leave_running recorded', async () => JSON.parse((await redis.get('mc:compute-agent:isolation:host-stay')) ?? 'null')?.response === 'leave_running', 20_000);
    // Longer than a failed host's whole fence wait (lease_ttl + self_fence_after = 3.5 s) twice over.
    await new Promise((r) => setTimeout(r, 7000));
    const h = (await cc.compute.getHost({ hostId: 'host-stay' })).host!;
    expect([h.state, h.epoch]).toEqual([compute.HostState.HOST_STATE_ISOLATED, epochBefore]);
    const servers = (await cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers.filter((s) => ids.includes(s.id));
    expect(servers.map((s) => [s.hostId, s.vmState])).toEqual(ids.map(() => ['host-stay', compute.VmState.VM_STATE_ACTIVE]));
    expect([...(await runningThere(agentClient, 'host-stay'))].sort()).toEqual([...ids].sort());
    proxy.restore();
    await until('host-stay UP again, same epoch', async () => {
      const x = (await cc.compute.getHost({ hostId: 'host-stay' })).host!;
      return x.state === compute.HostState.HOST_STATE_UP && x.epoch === epochBefore;
    }, 20_000);
    expect([...(await runningThere(agentClient, 'host-stay'))].sort()).toEqual([...ids].sort());
  });

  it('9. Redis blip past self_fence_after, host never fenced: the self-fenced VMs are powered on again there', async () => {
    const { proxy, agentClient, ids, epochBefore } = await isolatableAgentWithVms('host-blip', 'power_off', 9, 2, 'redis');
    proxy.cut();
    await until('self_fenced reports', async () => ids.every((id) => cc.checker.reportsOf('host-blip', id).some((r) => r.reason === 'self_fenced')), 15_000, 100);
    proxy.restore();
    await until('host-blip registered afresh', async () => (await cc.compute.getHost({ hostId: 'host-blip' })).host!.epoch > epochBefore, 20_000);
    const servers = await waitAll(cc, ids, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.powerState === RUNNING && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED, 30_000, 'VMs running again');
    expect(servers.map((s) => s.hostId)).toEqual(ids.map(() => 'host-blip'));
    expect([...(await runningThere(agentClient, 'host-blip'))].sort()).toEqual([...ids].sort());
    const h = (await cc.compute.getHost({ hostId: 'host-blip' })).host!;
    expect(h.state).toBe(compute.HostState.HOST_STATE_UP);
    for (const id of ids) {
      const actions = (await cc.compute.listInstanceActions({ serverId: id })).actions;
      expect(actions.map((a) => a.action)).not.toContain('evacuate');
      expect(actions.find((a) => a.action === 'start')).toMatchObject({ userId: 'ha' });
    }
  });

  it('no acknowledged instance was lost or left in a task', async () => {
    // The isolated hosts' reports never reached NATS, so the checker cannot place their VMs; where each
    // runs was checked above from the agents' own answers. Here: none lost, none left in a task.
    const servers = (await cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers;
    for (const id of acked) {
      const s = servers.find((x) => x.id === id);
      expect(s).toBeDefined();
      expect(s?.taskState).toBe(compute.TaskState.TASK_STATE_UNSPECIFIED);
    }
    await cc.checker.sampleAllocations();
  });
});
