import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { Registry } from '@minicloud/platform-metrics';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../compute-agent/src/wire';
import { ControllerHarness } from './testing/controller-harness';

jest.setTimeout(60_000);

/**
 * The DRS/DPM loop in-process with three real compute agents (wireComputeAgent, TIME_SCALE 1000:
 * the 300 s round runs every 300 ms) over real gRPC/Redis/NATS; network and image are fakes.
 * Policy thr-mmt-0.8, DPM keeps one host on.
 */
describe('consolidation loop (DRS/DPM) with three real agents', () => {
  let h: ControllerHarness;
  const handles: Record<string, AgentHandles> = {};
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  let metricsRegistry: Registry;

  beforeAll(async () => {
    h = await ControllerHarness.start('lm-test');
    const { adminToken } = h.tokens;
    metricsRegistry = new Registry();
    const { grpc } = await h.startControllerWithFakePeers({
      registry: metricsRegistry,
      config: { CONSOLIDATION_ENABLED: 'true', CONSOLIDATION_POLICY: 'thr-mmt-0.8', TIME_SCALE: '1000', DPM_MIN_ACTIVE_HOSTS: '1' },
    });
    admin = h.client(compute.ComputeServiceService, grpc.address, adminToken);
    const registry = h.client(agent.HostRegistryServiceService, grpc.address, adminToken);

    for (const id of ['h1', 'h2', 'h3']) handles[id] = await h.startInProcessAgent(id, registry);
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 3, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
    // Over half of a host's RAM (std-2s32c-256g: 262,144 MB): two never share a host.
    await admin.createFlavor({ id: 'f-big', name: 'm1.big', vcpus: 1, ramMb: 150_000, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  const hostsByState = async () => {
    const out: Record<string, string[]> = {};
    for (const h of (await admin.listHosts({})).hosts) (out[compute.HostState[h.state]] ??= []).push(h.id);
    return out;
  };
  const standbyIds = async () => (await hostsByState()).HOST_STATE_STANDBY ?? [];
  const agentHost = (id: string) => handles[id].hosts[0];
  async function boot(name: string, flavorRef: string, hints: Record<string, string> = {}): Promise<compute.Server> {
    const { servers } = await admin.createServer({ name, flavorRef, imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': 'idle' }, schedulerHints: hints });
    const id = servers[0].id;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 15_000 });
    return (await admin.getServer({ serverId: id })).server!;
  }
  const metric = async (name: string) => {
    const text = await metricsRegistry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith(name));
    return lines.reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  };

  it('puts empty hosts in standby (0 W, not failed), wakes one when a boot finds no valid host, and consolidates VMs', async () => {
    // An empty cloud: DPM keeps one host on and powers the other two off.
    await waitFor(async () => (await standbyIds()).length === 2, { timeoutMs: 10_000 });
    const [s1, s2] = await standbyIds();
    // The agents power off once the hosts stayed unclaimed for the settle time.
    await waitFor(() => agentHost(s1).usage().standby && agentHost(s2).usage().standby, { timeoutMs: 10_000 });
    expect(agentHost(s1).usage()).toMatchObject({ standby: true, powerWatts: 0 });
    const on = ['h1', 'h2', 'h3'].find((h) => h !== s1 && h !== s2)!;
    expect(agentHost(on).usage().powerWatts).toBeGreaterThan(0);

    // The first big VM lands on the host that is on; the second finds no valid host until DPM wakes one.
    const big1 = await boot('big1', 'f-big');
    expect(big1.hostId).toBe(on);
    const big2 = await boot('big2', 'f-big');
    expect([s1, s2]).toContain(big2.hostId);
    expect(agentHost(big2.hostId).usage().standby).toBe(false);
    expect(await metric('minicloud_dpm_host_power_transitions_total{to="up"')).toBeGreaterThanOrEqual(1);

    // A small VM beside big2; once big2 is deleted the two hosts are both underloaded: DRS moves VMs
    // so one host holds everything, and DPM powers the emptied one off again.
    const small = await boot('small', 'f-small', { different_host: big1.id });
    expect(small.hostId).toBe(big2.hostId);
    await admin.deleteServer({ serverId: big2.id });
    await waitFor(async () => {
      const a = (await admin.getServer({ serverId: big1.id })).server!;
      const b = (await admin.getServer({ serverId: small.id })).server!;
      return a.hostId === b.hostId && a.status === 'ACTIVE' && b.status === 'ACTIVE' && a.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && b.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
    }, { timeoutMs: 30_000 });
    await waitFor(async () => (await standbyIds()).length === 2, { timeoutMs: 20_000 });
    const holder = (await admin.getServer({ serverId: big1.id })).server!.hostId;
    expect(await standbyIds()).not.toContain(holder);
    const done = [...(await admin.listMigrations({ serverId: big1.id })).migrations, ...(await admin.listMigrations({ serverId: small.id })).migrations];
    expect(done.filter((m) => m.status === 'completed').length).toBeGreaterThanOrEqual(1);
    expect(await metric('minicloud_consolidation_migrations_total{reason="underload"')).toBeGreaterThanOrEqual(1);
    // Standby hosts draw nothing; the cloud's power is the one active host's.
    await waitFor(async () => Math.abs((await metric('minicloud_cloud_power_watts')) - agentHost(holder).usage().powerWatts) < 1e-6, { timeoutMs: 10_000 });
    expect(await metric('minicloud_cloud_energy_joules_total')).toBeGreaterThan(0);
    // HA never saw them as failed.
    expect((await hostsByState()).HOST_STATE_FAILED).toBeUndefined();
  });
});
