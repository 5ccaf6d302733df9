import { agent, compute, events } from '@minicloud/proto';
import { FakeHypervisor, type FakeVm } from '@minicloud/compute-agent/testing';
import { waitFor } from '@minicloud/testing';
import { Keys } from '../store/keys';
import { InstanceStore } from '../store/instance-store';
import { ControllerHarness } from '../testing/controller-harness';

jest.setTimeout(60_000);

const P = compute.PowerState;

/** A VM defined on a {@link ListingAgent} without a spec (no accounting), in `powerState`. */
const vm = (powerState: compute.PowerState): FakeVm => ({ powerState, volumes: new Map(), interfaces: new Map() });

/**
 * The agent double with a real agent's inventory: ListInstances answers with its epoch, every
 * heartbeat carries the full VM list, and VMs in {@link migrating} are flagged as taking part in a
 * live migration. `restart()` registers afresh holding whatever `vms` holds then (a restarted agent
 * process holds nothing).
 */
class ListingAgent extends FakeHypervisor {
  /** Ids of VMs in a live migration here (either side). */
  readonly migrating = new Set<string>();

  /** Every command received, as `<command>:<instance>`. */
  ops(): string[] {
    return this.commands.map((c) => `${c.spawn ? 'spawn' : c.destroy ? 'destroy' : c.powerOn ? 'powerOn' : c.powerOff ? 'powerOff' : 'other'}:${c.instanceId}`);
  }

  private inventory(): agent.HostInstance[] {
    return [...this.vms].map(([instanceId, v]) => ({ instanceId, powerState: v.powerState, migrating: this.migrating.has(instanceId) }));
  }

  /** Every heartbeat carries the full inventory, as a real agent's does (the leader's periodic check reads it). */
  protected override heartbeatExtra(): Partial<events.Heartbeat> {
    return { inventoryComplete: true, instances: this.inventory() };
  }

  protected override handlers(): Record<string, unknown> {
    return {
      ...super.handlers(),
      listInstances: async () => ({ epoch: this.epoch, instances: this.inventory().map((i) => ({ ...i, hostId: this.hostId, epoch: this.epoch })) }),
    };
  }
}

/** A controller over a fake image/network, one ListingAgent per host id, and the admin client. */
async function cloud(name: string, config: Record<string, string>, hostIds: string[]) {
  const harness = await ControllerHarness.start(name);
  const fakeImage = await harness.startFakeImage();
  const net = await harness.startFakeNetwork();
  const { grpc } = await harness.startControllerUnderTest({ endpoints: { image: fakeImage.address, network: net.server.address }, config: { POWER_SYNC_INTERVAL_MS: '200', ...config } });
  const admin = harness.client(compute.ComputeServiceService, grpc.address, harness.tokens.adminToken);
  const registry = harness.client(agent.HostRegistryServiceService, grpc.address, harness.tokens.adminToken);
  const agents = new Map<string, ListingAgent>();
  harness.addDouble({ stop: async () => void (await Promise.all([...agents.values()].map((a) => a.stop()))) });
  for (const id of hostIds) {
    const a = new ListingAgent(id, harness.bus, { cores: 8, ramMb: 16384, diskGb: 400 });
    await a.start(registry);
    agents.set(id, a);
  }
  await admin.createFlavor({ name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 });
  const servers = async (ids: string[]) => (await admin.listServers({ allProjects: true })).servers.filter((s) => ids.includes(s.id));
  /** Boots `n` servers on `hostId` (the other hosts disabled meanwhile) and waits for them ACTIVE and running. */
  const boot = async (n: number, hostId: string) => {
    const others = hostIds.filter((h) => h !== hostId);
    for (const h of others) await admin.updateHost({ hostId: h, enabled: false, disabledReason: 'test: pin boots' });
    const res = await admin.createServer({ name: `vm-${hostId}`, flavorRef: 'm1.tiny', imageRef: 'img', networks: [{ networkId: 'net-1' }], minCount: n, maxCount: n });
    for (const h of others) await admin.updateHost({ hostId: h, enabled: true });
    const ids = res.servers.map((s) => s.id);
    await waitFor(async () => (await servers(ids)).every((s) => s.status === 'ACTIVE' && s.powerState === P.POWER_STATE_RUNNING), { timeoutMs: 20_000 });
    return ids;
  };
  return { harness, admin, agents, servers, boot, records: new InstanceStore(harness.redis) };
}

describe('power sync (controller in-process, real Redis + NATS, listing agent doubles)', () => {
  let c: Awaited<ReturnType<typeof cloud>>;
  beforeAll(async () => {
    c = await cloud('power-sync', {}, ['h1', 'h2']);
  });
  afterAll(async () => {
    await c?.harness.close();
  });

  it('an agent back holding none of its VMs: its servers go SHUTOFF (stopped, nostate) with a stop action; the other host is untouched; start re-creates the guest', async () => {
    const lost = await c.boot(3, 'h1');
    const kept = await c.boot(1, 'h2');
    const h1 = c.agents.get('h1')!;
    h1.vms.clear();
    await h1.restart();
    await waitFor(async () => (await c.servers(lost)).every((s) => s.status === 'SHUTOFF' && s.vmState === compute.VmState.VM_STATE_STOPPED && s.powerState === P.POWER_STATE_NOSTATE), { timeoutMs: 10_000 });
    expect((await c.servers(kept))[0]).toMatchObject({ status: 'ACTIVE', powerState: P.POWER_STATE_RUNNING, hostId: 'h2' });
    const actions = (await c.admin.listInstanceActions({ serverId: lost[0] })).actions;
    expect(actions.map((a) => [a.action, a.userId, a.result])).toEqual([
      ['create', 'minicloud', 'Success'],
      ['stop', 'power-sync', 'Success'],
    ]);
    expect(actions[1].message).toMatch(/VM not found on host h1/);

    await c.admin.serverAction({ serverId: lost[0], start: {} });
    await waitFor(async () => (await c.servers([lost[0]]))[0].status === 'ACTIVE', { timeoutMs: 10_000 });
    expect((await c.servers([lost[0]]))[0]).toMatchObject({ hostId: 'h1', powerState: P.POWER_STATE_RUNNING, taskState: compute.TaskState.TASK_STATE_UNSPECIFIED });
    expect(h1.ops().filter((x) => x.endsWith(lost[0])).slice(-2)).toEqual([`powerOn:${lost[0]}`, `spawn:${lost[0]}`]);
    expect(h1.vms.get(lost[0])?.powerState).toBe(P.POWER_STATE_RUNNING);
  });

  it('destroys a VM no record owns, never one in a live migration; leaves an instance with a task or an open evacuation alone', async () => {
    const [busy, evacuating] = await c.boot(2, 'h2');
    const h2 = c.agents.get('h2')!;
    await c.records.update(busy, (r) => ({ ...r, taskState: 'powering_off' }));
    await c.harness.redis.sadd(Keys.evacuations(), evacuating);
    h2.vms.delete(busy);
    h2.vms.delete(evacuating);
    await h2.restart();
    // VMs that appear after the registration (its destroy_instance_ids covers those it held then).
    h2.vms.set('ghost', vm(P.POWER_STATE_RUNNING));
    h2.vms.set('incoming', vm(P.POWER_STATE_PAUSED));
    h2.migrating.add('incoming');
    await waitFor(async () => !h2.vms.has('ghost'), { timeoutMs: 10_000 });
    expect(h2.ops()).toContain('destroy:ghost');
    expect(h2.ops()).not.toContain('destroy:incoming');
    expect(h2.vms.has('incoming')).toBe(true);
    expect(await c.records.get(busy)).toMatchObject({ vmState: 'active', taskState: 'powering_off', powerState: 'running' });
    expect(await c.records.get(evacuating)).toMatchObject({ vmState: 'active', taskState: null, powerState: 'running' });
    h2.vms.delete('incoming');
    h2.migrating.delete('incoming');
    await c.harness.redis.srem(Keys.evacuations(), evacuating);
  });

  it('a heartbeat whose inventory disagrees with the records is enough (no registration): the leader syncs that host', async () => {
    const [id] = await c.boot(1, 'h2');
    const h2 = c.agents.get('h2')!;
    h2.vms.delete(id);
    h2.vms.set('stray', vm(P.POWER_STATE_SHUTDOWN));
    const epoch = h2.epoch;
    await waitFor(async () => (await c.servers([id]))[0].status === 'SHUTOFF' && !h2.vms.has('stray'), { timeoutMs: 10_000 });
    expect(h2.epoch).toBe(epoch);
  });
});

describe('power sync with RESUME_GUESTS_STATE_ON_HOST_BOOT', () => {
  let c: Awaited<ReturnType<typeof cloud>>;
  beforeAll(async () => {
    c = await cloud('power-sync-resume', { RESUME_GUESTS_STATE_ON_HOST_BOOT: 'true' }, ['h1']);
  });
  afterAll(async () => {
    await c?.harness.close();
  });

  it('guests that were running start again on the same host from their record; a stopped one stays stopped', async () => {
    const ids = await c.boot(3, 'h1');
    await c.admin.serverAction({ serverId: ids[2], stop: {} });
    await waitFor(async () => (await c.servers([ids[2]]))[0].status === 'SHUTOFF', { timeoutMs: 10_000 });
    const h1 = c.agents.get('h1')!;
    h1.vms.clear();
    h1.commands.length = 0;
    await h1.restart();
    const startedAgain = async (id: string) => (await c.admin.listInstanceActions({ serverId: id })).actions.some((a) => a.action === 'start' && a.userId === 'power-sync' && a.result === 'Success');
    await waitFor(async () => (await Promise.all(ids.slice(0, 2).map(startedAgain))).every(Boolean), { timeoutMs: 10_000 });
    expect((await c.servers(ids.slice(0, 2))).map((s) => [s.status, s.powerState, s.taskState, s.hostId])).toEqual([
      ['ACTIVE', P.POWER_STATE_RUNNING, compute.TaskState.TASK_STATE_UNSPECIFIED, 'h1'],
      ['ACTIVE', P.POWER_STATE_RUNNING, compute.TaskState.TASK_STATE_UNSPECIFIED, 'h1'],
    ]);
    await waitFor(async () => (await c.servers([ids[2]]))[0].powerState === P.POWER_STATE_NOSTATE, { timeoutMs: 10_000 });
    expect((await c.servers([ids[2]]))[0]).toMatchObject({ status: 'SHUTOFF', hostId: 'h1' });
    expect([...h1.vms.keys()].sort()).toEqual(ids.slice(0, 2).sort());
    expect(h1.ops().filter((x) => x.startsWith('spawn')).sort()).toEqual(ids.slice(0, 2).map((id) => `spawn:${id}`).sort());
    const actions = (await c.admin.listInstanceActions({ serverId: ids[0] })).actions;
    expect(actions.at(-1)).toMatchObject({ action: 'start', userId: 'power-sync', result: 'Success' });
  });
});
