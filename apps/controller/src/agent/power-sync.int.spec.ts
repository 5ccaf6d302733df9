import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { agent, compute, events } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import { HaKeys } from '../ha/ha-manager';
import { InstanceStore } from '../store/instance-store';
import { ControllerHarness, HypervisorDouble } from '../testing/controller-harness';

jest.setTimeout(60_000);

const P = compute.PowerState;

/**
 * An agent double whose VMs live in a map it lists (ListInstances, with its epoch): `restart()`
 * registers afresh holding whatever the map holds then (a restarted agent process holds nothing).
 */
class ListingAgent extends HypervisorDouble {
  vms = new Map<string, { powerState: compute.PowerState; migrating?: boolean }>();
  /** Every command received, as `<command>:<instance>`. */
  commands: string[] = [];
  private registry?: ServiceClient<typeof agent.HostRegistryServiceService>;

  override async start(registry: ServiceClient<typeof agent.HostRegistryServiceService>): Promise<agent.RegisterHostResponse> {
    this.registry = registry;
    return super.start(registry);
  }

  /** Registers again (new epoch) with the VMs the map holds, as a restarted agent does. */
  async restart(): Promise<void> {
    const res = await this.registry!.registerHost({
      profile: { hostId: this.hostId, hostname: this.hostId, sockets: 1, coresPerSocket: 8, threadsPerCore: 1, ramMb: 16384, diskGb: 400 },
      agentEndpoint: this.server.address,
      instances: [...this.vms].map(([instanceId, vm]) => ({ instanceId, hostId: this.hostId, powerState: vm.powerState, migrating: vm.migrating ?? false })),
    });
    this.epoch = res.epoch;
    for (const id of res.destroyInstanceIds) this.vms.delete(id);
  }

  /** Every heartbeat carries the full inventory, as a real agent's does (the leader's periodic check reads it). */
  protected override heartbeatExtra(): Partial<events.Heartbeat> {
    return { inventoryComplete: true, instances: [...this.vms].map(([instanceId, vm]) => ({ instanceId, powerState: vm.powerState, migrating: vm.migrating ?? false })) };
  }

  protected handlers() {
    return {
      listInstances: async () => ({ epoch: this.epoch, instances: [...this.vms].map(([instanceId, vm]) => ({ instanceId, hostId: this.hostId, powerState: vm.powerState, migrating: vm.migrating ?? false, epoch: this.epoch })) }),
      executeCommand: async (req: agent.ExecuteCommandRequest) => {
        if (req.epoch !== this.epoch) throw new FailedPreconditionError('stale epoch', 'stale_epoch');
        const id = req.instanceId;
        const kind = req.spawn ? 'spawn' : req.destroy ? 'destroy' : req.powerOn ? 'powerOn' : req.powerOff ? 'powerOff' : 'other';
        this.commands.push(`${kind}:${id}`);
        if (kind === 'spawn') {
          if (!this.vms.has(id)) {
            this.vms.set(id, { powerState: P.POWER_STATE_RUNNING });
            this.report(id, P.POWER_STATE_RUNNING, 'spawned');
          }
          return { instance: { instanceId: id, hostId: this.hostId, powerState: P.POWER_STATE_NOSTATE } };
        }
        if (kind === 'destroy') {
          this.vms.delete(id);
          return {};
        }
        const vm = this.vms.get(id);
        if (!vm) throw new NotFoundError('instance', id, `not on host ${this.hostId}`);
        if (kind === 'powerOn') vm.powerState = P.POWER_STATE_RUNNING;
        if (kind === 'powerOff') vm.powerState = P.POWER_STATE_SHUTDOWN;
        this.report(id, vm.powerState, kind === 'powerOn' ? 'powered_on' : 'powered_off');
        return { instance: { instanceId: id, hostId: this.hostId, powerState: vm.powerState } };
      },
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
    expect(h1.commands.filter((x) => x.endsWith(lost[0])).slice(-2)).toEqual([`powerOn:${lost[0]}`, `spawn:${lost[0]}`]);
    expect(h1.vms.get(lost[0])?.powerState).toBe(P.POWER_STATE_RUNNING);
  });

  it('destroys a VM no record owns, never one in a live migration; leaves an instance with a task or an open evacuation alone', async () => {
    const [busy, evacuating] = await c.boot(2, 'h2');
    const h2 = c.agents.get('h2')!;
    await c.records.update(busy, (r) => ({ ...r, taskState: 'powering_off' }));
    await c.harness.redis.sadd(HaKeys.evacuations(), evacuating);
    h2.vms.delete(busy);
    h2.vms.delete(evacuating);
    await h2.restart();
    // VMs that appear after the registration (its destroy_instance_ids covers those it held then).
    h2.vms.set('ghost', { powerState: P.POWER_STATE_RUNNING });
    h2.vms.set('incoming', { powerState: P.POWER_STATE_PAUSED, migrating: true });
    await waitFor(async () => !h2.vms.has('ghost'), { timeoutMs: 10_000 });
    expect(h2.commands).toContain('destroy:ghost');
    expect(h2.commands).not.toContain('destroy:incoming');
    expect(h2.vms.has('incoming')).toBe(true);
    expect(await c.records.get(busy)).toMatchObject({ vmState: 'active', taskState: 'powering_off', powerState: 'running' });
    expect(await c.records.get(evacuating)).toMatchObject({ vmState: 'active', taskState: null, powerState: 'running' });
    h2.vms.delete('incoming');
    await c.harness.redis.srem(HaKeys.evacuations(), evacuating);
  });

  it('a heartbeat whose inventory disagrees with the records is enough (no registration): the leader syncs that host', async () => {
    const [id] = await c.boot(1, 'h2');
    const h2 = c.agents.get('h2')!;
    h2.vms.delete(id);
    h2.vms.set('stray', { powerState: P.POWER_STATE_SHUTDOWN });
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
    h1.commands = [];
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
    expect(h1.commands.filter((x) => x.startsWith('spawn')).sort()).toEqual(ids.slice(0, 2).map((id) => `spawn:${id}`).sort());
    const actions = (await c.admin.listInstanceActions({ serverId: ids[0] })).actions;
    expect(actions.at(-1)).toMatchObject({ action: 'start', userId: 'power-sync', result: 'Success' });
  });
});
