import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { agent, compute, image } from '@minicloud/proto';
import type { DeepPartial, ServiceClient } from '@minicloud/platform-grpc';
import type { Redis } from '@minicloud/platform-state';
import { waitFor } from '@minicloud/testing';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness, type FakeNetwork } from './testing/controller-harness';

jest.setTimeout(60_000);

describe('controller (in-process, real Redis + NATS, fake image/network/agents)', () => {
  let harness: ControllerHarness;
  let redis: Redis;
  const agents: FakeHypervisor[] = [];
  let ports: FakeNetwork['ports'];

  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  let alice: ServiceClient<typeof compute.ComputeServiceService>;
  let bob: ServiceClient<typeof compute.ComputeServiceService>;
  let noToken: ServiceClient<typeof compute.ComputeServiceService>;
  let registry: ServiceClient<typeof agent.HostRegistryServiceService>;

  beforeAll(async () => {
    harness = await ControllerHarness.start('controller-test');
    redis = harness.redis;
    const { adminToken, mint } = harness.tokens;
    const aliceToken = await mint('alice', 'p-alice', ['member']);
    const bobToken = await mint('bob', 'p-bob', ['member']);

    const fakeImage = await harness.startFakeImage({
      getImage: async (req: image.GetImageRequest) => {
        const status = req.imageId === 'img-cirros' ? image.ImageStatus.IMAGE_STATUS_ACTIVE : req.imageId === 'img-queued' ? image.ImageStatus.IMAGE_STATUS_QUEUED : undefined;
        if (!status) throw new NotFoundError('image', req.imageId);
        return { image: { id: req.imageId, name: req.imageId, status, diskFormat: 'qcow2', sizeBytes: 1024, osHashValue: 'abc' } };
      },
      listImages: async () => ({ images: [] }),
    });
    const fakeNetwork = await harness.startFakeNetwork();
    ports = fakeNetwork.ports;

    const started = await harness.startControllerUnderTest({ endpoints: { image: fakeImage.address, network: fakeNetwork.server.address } });
    const address = started.grpc.address;
    admin = harness.client(compute.ComputeServiceService, address, adminToken);
    alice = harness.client(compute.ComputeServiceService, address, aliceToken);
    bob = harness.client(compute.ComputeServiceService, address, bobToken);
    noToken = harness.client(compute.ComputeServiceService, address, undefined);
    registry = harness.client(agent.HostRegistryServiceService, address, adminToken);

    // Agents are stopped after the controller closes; tests may add more to `agents`.
    harness.addDouble({ stop: async () => void (await Promise.all(agents.map((a) => a.stop()))) });
    for (const id of ['h1', 'h2', 'h3']) {
      const a = new FakeHypervisor(id, harness.bus, { cores: 8, ramMb: 16384, diskGb: 400 });
      await a.start(registry);
      agents.push(a);
    }
    await admin.createFlavor({ name: 'm1.small', vcpus: 1, ramMb: 1024, diskGb: 10 });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const boot = (c: typeof alice, over: DeepPartial<compute.CreateServerRequest> = {}) =>
    c.createServer({ name: 'vm', flavorRef: 'm1.small', imageRef: 'img-cirros', networks: [{ networkId: 'net-1' }], ...over });
  const statusOf = async (c: typeof alice, id: string) => (await c.getServer({ serverId: id })).server!.status;
  const gone = async (id: string) => {
    try {
      await admin.getServer({ serverId: id });
      return false;
    } catch (e) {
      return e instanceof NotFoundError;
    }
  };
  const instanceKeys = async (id: string) => (await redis.keys('mc:controller:*')).filter((k) => k.includes(id));
  const allocatedVcpus = async () => (await admin.listHosts({})).hosts.reduce((s, h) => s + Number(h.vcpus!.allocated), 0);

  it('registers hosts with epochs, inventory from the profile and the configured ratios', async () => {
    const h = (await admin.getHost({ hostId: 'h1' })).host!;
    expect(h.epoch).toBe(agents[0].epoch);
    expect(h.state).toBe(compute.HostState.HOST_STATE_UP);
    expect(h.vcpus).toMatchObject({ total: 8, allocationRatio: 4 });
    expect(h.ramMb).toMatchObject({ total: 16384, allocationRatio: 1 });
    await expect(alice.listHosts({})).rejects.toThrow(/requires role admin/);
  });

  it('re-registration bumps the epoch and asks to destroy instances not placed on the host', async () => {
    const again = await registry.registerHost({
      profile: { hostId: 'h1', hostname: 'h1', sockets: 1, coresPerSocket: 8, threadsPerCore: 1, ramMb: 16384, diskGb: 400 },
      agentEndpoint: agents[0].server.address,
      instances: [{ instanceId: 'ghost-vm', hostId: 'h1' }],
    });
    expect(again.epoch).toBe(agents[0].epoch + 1);
    expect(again.destroyInstanceIds).toEqual(['ghost-vm']);
    expect(again).toMatchObject({ heartbeatIntervalMs: 1000, leaseTtlMs: 3000, selfFenceAfterMs: 6000 });
    agents[0].epoch = again.epoch;
  });

  it('boots 20 servers spread over 3 hosts, all ACTIVE with ports; delete releases claims and leaves no keys', async () => {
    const res = await boot(alice, { name: 'web', minCount: 20, maxCount: 20 });
    expect(res.servers).toHaveLength(20);
    expect(res.servers.every((s) => s.status === 'BUILD' && s.hostId === '')).toBe(true);
    const ids = res.servers.map((s) => s.id);
    await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(alice, id)))).every((s) => s === 'ACTIVE'), { timeoutMs: 20_000 });
    const servers = (await admin.listServers({ allProjects: true, reservationId: res.reservationId })).servers;
    const perHost = new Map<string, number>();
    for (const s of servers) perHost.set(s.hostId, (perHost.get(s.hostId) ?? 0) + 1);
    expect([...perHost.keys()].sort()).toEqual(['h1', 'h2', 'h3']);
    expect(Math.min(...perHost.values())).toBeGreaterThanOrEqual(5);
    expect(servers[0].addresses[0]).toMatchObject({ networkId: 'net-1', networkName: 'private', type: 'fixed' });
    expect(servers[0].powerState).toBe(compute.PowerState.POWER_STATE_RUNNING);
    expect([...ports.values()].filter((p) => ids.includes(p.deviceId)).every((p) => p.projectId === 'p-alice' && p.deviceOwner === 'compute:nova' && p.bindingHostId)).toBe(true);
    expect(await allocatedVcpus()).toBe(20);
    expect((await alice.listInstanceActions({ serverId: ids[0] })).actions[0]).toMatchObject({ action: 'create', result: 'Success', userId: 'alice' });

    // another project cannot see them
    await expect(bob.getServer({ serverId: ids[0] })).rejects.toBeInstanceOf(NotFoundError);
    expect((await bob.listServers({})).servers).toHaveLength(0);

    await Promise.all(ids.map((id) => alice.deleteServer({ serverId: id })));
    await waitFor(async () => (await Promise.all(ids.map(gone))).every(Boolean), { timeoutMs: 20_000 });
    expect(await allocatedVcpus()).toBe(0);
    expect([...ports.values()].filter((p) => ids.includes(p.deviceId))).toHaveLength(0);
    for (const id of ids) expect(await instanceKeys(id)).toEqual([]);
    expect(agents.reduce((n, a) => n + a.vms.size, 0)).toBe(0);
  });

  it('refuses unknown flavor/image/network with NOT_FOUND naming it, and creates nothing', async () => {
    await expect(boot(alice, { flavorRef: 'm9.nope' })).rejects.toMatchObject({ resourceType: 'flavor' });
    await expect(boot(alice, { imageRef: 'img-nope' })).rejects.toMatchObject({ resourceType: 'image' });
    await expect(boot(alice, { networks: [{ networkId: 'net-nope' }] })).rejects.toMatchObject({ resourceType: 'network' });
    await expect(boot(alice, { imageRef: 'img-queued' })).rejects.toBeInstanceOf(FailedPreconditionError);
    expect((await alice.listServers({})).servers).toHaveLength(0);
    expect(await allocatedVcpus()).toBe(0);
  });

  it('refuses missing or negative fields with INVALID_ARGUMENT naming the field', async () => {
    const field = (p: Promise<unknown>) => p.then(() => 'accepted', (e) => (e instanceof InvalidArgumentError ? e.field : `other: ${e}`));
    expect(await field(boot(alice, { name: '' }))).toBe('name');
    expect(await field(boot(alice, { minCount: -1 }))).toBe('min_count');
    expect(await field(boot(alice, { minCount: 3, maxCount: 2 }))).toBe('max_count');
    expect(await field(boot(alice, { networks: [] }))).toBe('networks');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 0, ramMb: 512, diskGb: 1 }))).toBe('vcpus');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 1, ramMb: -5, diskGb: 1 }))).toBe('ram_mb');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 1, ramMb: 512, diskGb: -1 }))).toBe('disk_gb');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 1, ramMb: 512, diskGb: 1, extraSpecs: { 'quota:cpu_limit': 'fast' } }))).toBe('extra_specs.quota:cpu_limit');
    expect(await field(admin.setFlavorExtraSpecs({ flavorId: 'm1.small', extraSpecs: { 'quota:cpu_shares_level': 'urgent' } }))).toBe('extra_specs.quota:cpu_shares_level');
    await expect(admin.createFlavor({ name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1 })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(alice.createFlavor({ name: 'mine', vcpus: 1, ramMb: 512, diskGb: 1 })).rejects.toThrow(/requires role admin/);
    await expect(noToken.listServers({})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a spawn failure puts the server in ERROR with a fault and releases its claim and port', async () => {
    const { servers } = await boot(alice, { name: 'failme' });
    const id = servers[0].id;
    await waitFor(async () => (await statusOf(alice, id)) === 'ERROR', { timeoutMs: 10_000 });
    const s = (await alice.getServer({ serverId: id })).server!;
    expect(s.fault?.message).toMatch(/image checksum mismatch/);
    expect(s.vmState).toBe(compute.VmState.VM_STATE_ERROR);
    await waitFor(async () => (await allocatedVcpus()) === 0 && [...ports.values()].every((p) => p.deviceId !== id), { timeoutMs: 5000 });
    expect((await alice.listInstanceActions({ serverId: id })).actions[0]).toMatchObject({ action: 'create', result: 'Error' });
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 5000 });
  });

  it('stop/start/reboot/pause walk the states; a refused action names the vm_state', async () => {
    const id = (await boot(alice, { name: 'power' })).servers[0].id;
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE', { timeoutMs: 10_000 });
    await expect(alice.serverAction({ serverId: id, start: {} })).rejects.toThrow(`Cannot 'start' instance ${id} while it is in vm_state active`);
    const stopping = (await alice.serverAction({ serverId: id, stop: {} })).server!;
    expect(stopping.taskState).toBe(compute.TaskState.TASK_STATE_POWERING_OFF);
    await waitFor(async () => (await statusOf(alice, id)) === 'SHUTOFF', { timeoutMs: 5000 });
    const stopped = (await alice.getServer({ serverId: id })).server!;
    expect(stopped.powerState).toBe(compute.PowerState.POWER_STATE_SHUTDOWN);
    expect(stopped.taskState).toBe(compute.TaskState.TASK_STATE_UNSPECIFIED);
    await expect(alice.serverAction({ serverId: id, stop: {} })).rejects.toThrow(/while it is in vm_state stopped/);
    await expect(alice.serverAction({ serverId: id, pause: {} })).rejects.toBeInstanceOf(FailedPreconditionError);
    await alice.serverAction({ serverId: id, start: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE' && (await alice.getServer({ serverId: id })).server!.taskState === 0, { timeoutMs: 5000 });
    await alice.serverAction({ serverId: id, reboot: { type: 'HARD' } });
    await waitFor(async () => (await alice.getServer({ serverId: id })).server!.taskState === 0, { timeoutMs: 5000 });
    await alice.serverAction({ serverId: id, pause: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'PAUSED', { timeoutMs: 5000 });
    await expect(alice.serverAction({ serverId: id, resize: { flavorRef: 'm1.small' } })).rejects.toThrow(/Cannot 'resize' instance .* while it is in vm_state paused/);
    const actions = (await alice.listInstanceActions({ serverId: id })).actions.map((a) => `${a.action}:${a.result}`);
    expect(actions).toEqual(['create:Success', 'stop:Success', 'start:Success', 'reboot:Success', 'pause:Success']);
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 5000 });
  });

  it('client_token makes create idempotent per project', async () => {
    const first = await boot(alice, { name: 'idem', clientToken: 'tok-1' });
    const second = await boot(alice, { name: 'idem', clientToken: 'tok-1' });
    expect(second.servers.map((s) => s.id)).toEqual(first.servers.map((s) => s.id));
    const id = first.servers[0].id;
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 10_000 });
    expect(await redis.keys('mc:controller:client_token:*')).toEqual([]);
  });

  it('aggregates: admin only; AZ placement; an aggregate cpu_allocation_ratio bounds the atomic claims', async () => {
    await expect(alice.createAggregate({ name: 'nope' })).rejects.toBeInstanceOf(PermissionDeniedError);
    const agg = (await admin.createAggregate({ name: 'tight', availabilityZone: 'az-x' })).aggregate!;
    await admin.addAggregateHost({ aggregateId: agg.id, hostId: 'h1' });
    await expect(admin.setAggregateMetadata({ aggregateId: agg.id, metadata: { cpu_allocation_ratio: '-1' } })).rejects.toThrow(/metadata.cpu_allocation_ratio/);
    // h1 has 8 cores: 8 x 0.25 = 2 vCPUs usable in this aggregate.
    await admin.setAggregateMetadata({ aggregateId: agg.id, metadata: { cpu_allocation_ratio: '0.25' } });
    const zones = (await alice.listAvailabilityZones({})).availabilityZones;
    expect(zones.find((z) => z.name === 'az-x')?.hostIds).toEqual(['h1']);
    await expect(boot(alice, { availabilityZone: 'az-x', minCount: 3, maxCount: 3 })).rejects.toThrow(/No valid host was found for instance 3 of 3/);
    expect((await alice.listServers({})).servers).toHaveLength(0);
    const two = (await boot(alice, { availabilityZone: 'az-x', minCount: 2, maxCount: 2 })).servers;
    expect(two.map((s) => s.availabilityZone)).toEqual(['az-x', 'az-x']);
    expect(Number((await admin.getHost({ hostId: 'h1' })).host!.vcpus!.allocated)).toBe(2);
    await expect(boot(alice, { availabilityZone: 'az-x' })).rejects.toBeInstanceOf(ResourceExhaustedError);
    await Promise.all(two.map((s) => alice.deleteServer({ serverId: s.id })));
    await waitFor(async () => (await Promise.all(two.map((s) => gone(s.id)))).every(Boolean), { timeoutMs: 10_000 });
    await expect(admin.deleteAggregate({ aggregateId: agg.id })).rejects.toBeInstanceOf(FailedPreconditionError);
    await admin.removeAggregateHost({ aggregateId: agg.id, hostId: 'h1' });
    await admin.deleteAggregate({ aggregateId: agg.id });
    expect((await admin.listAggregates({})).aggregates).toEqual([]);
  });

  it('server groups: anti-affinity spreads over the 3 hosts and refuses a 4th member; groups are project-scoped', async () => {
    const g = (await bob.createServerGroup({ name: 'spread', policy: 'anti-affinity' })).serverGroup!;
    await expect(bob.createServerGroup({ name: 'x', policy: 'sideways' })).rejects.toThrow(/policy/);
    await expect(alice.getServerGroup({ serverGroupId: g.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(boot(alice, { schedulerHints: { group: g.id } })).rejects.toBeInstanceOf(NotFoundError);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await boot(bob, { name: `g-${i}`, schedulerHints: { group: g.id } })).servers[0].id);
    const hostsUsed = await Promise.all(ids.map(async (id) => (await admin.getServer({ serverId: id })).server!.hostId));
    expect(new Set(hostsUsed).size).toBe(3);
    await expect(boot(bob, { name: 'g-4', schedulerHints: { group: g.id } })).rejects.toThrow(/anti-affinity/);
    expect((await bob.getServerGroup({ serverGroupId: g.id })).serverGroup!.memberIds.sort()).toEqual([...ids].sort());
    await Promise.all(ids.map((id) => bob.deleteServer({ serverId: id })));
    await waitFor(async () => (await Promise.all(ids.map(gone))).every(Boolean), { timeoutMs: 10_000 });
    expect((await bob.getServerGroup({ serverGroupId: g.id })).serverGroup!.memberIds).toEqual([]);
    await bob.deleteServerGroup({ serverGroupId: g.id });
  });

  it('lock, rescue, rebuild, shelve (offload frees the claim) and unshelve through the lifecycle worker', async () => {
    const id = (await boot(alice, { name: 'life' })).servers[0].id;
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE', { timeoutMs: 5000 });
    const idle = async () => (await alice.getServer({ serverId: id })).server!.taskState === 0;
    await admin.serverAction({ serverId: id, lock: { reason: 'audit' } });
    await expect(alice.serverAction({ serverId: id, stop: {} })).rejects.toThrow(/is locked/);
    await expect(alice.deleteServer({ serverId: id })).rejects.toThrow(/is locked/);
    await expect(alice.serverAction({ serverId: id, unlock: {} })).rejects.toBeInstanceOf(PermissionDeniedError);
    await admin.serverAction({ serverId: id, unlock: {} });
    await alice.serverAction({ serverId: id, rescue: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'RESCUE' && (await idle()), { timeoutMs: 5000 });
    await expect(alice.serverAction({ serverId: id, shelve: {} })).rejects.toThrow(/vm_state rescued/);
    await alice.serverAction({ serverId: id, unrescue: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE' && (await idle()), { timeoutMs: 5000 });
    const host = (await admin.getServer({ serverId: id })).server!.hostId;
    await alice.serverAction({ serverId: id, rebuild: { imageRef: 'img-cirros' } });
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE' && (await idle()), { timeoutMs: 5000 });
    expect((await admin.getServer({ serverId: id })).server!.hostId).toBe(host);
    const before = await allocatedVcpus();
    await alice.serverAction({ serverId: id, shelve: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'SHELVED_OFFLOADED', { timeoutMs: 5000 });
    expect((await admin.getServer({ serverId: id })).server!.hostId).toBe('');
    expect(await allocatedVcpus()).toBe(before - 1);
    await alice.serverAction({ serverId: id, unshelve: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE' && (await idle()), { timeoutMs: 5000 });
    expect(await allocatedVcpus()).toBe(before);
    const actions = (await alice.listInstanceActions({ serverId: id })).actions.map((a) => `${a.action}:${a.result}`);
    expect(actions).toEqual(['create:Success', 'lock:Success', 'unlock:Success', 'rescue:Success', 'unrescue:Success', 'rebuild:Success', 'shelve:Success', 'unshelve:Success']);
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 5000 });
  });

  it('10 concurrent creates racing for a host that fits 5: exactly 5 claimed, the rest NoValidHost', async () => {
    for (const id of ['h1', 'h2', 'h3']) await admin.updateHost({ hostId: id, enabled: false, disabledReason: 'race test' });
    const small = new FakeHypervisor('h-small', harness.bus, { cores: 8, ramMb: 5 * 1024, diskGb: 100 });
    agents.push(small);
    await small.start(registry);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => boot(bob, { name: `race-${i}` })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(5);
    expect(refused.every((r) => r.reason instanceof ResourceExhaustedError)).toBe(true);
    const host = (await admin.getHost({ hostId: 'h-small' })).host!;
    expect(Number(host.ramMb!.allocated)).toBe(5 * 1024);
    expect((await bob.listServers({})).servers).toHaveLength(5);
    const ids = (await bob.listServers({})).servers.map((s) => s.id);
    await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(bob, id)))).every((s) => s === 'ACTIVE'), { timeoutMs: 10_000 });
    await Promise.all(ids.map((id) => bob.deleteServer({ serverId: id })));
    await waitFor(async () => (await Promise.all(ids.map(gone))).every(Boolean), { timeoutMs: 10_000 });
    expect(Number((await admin.getHost({ hostId: 'h-small' })).host!.ramMb!.allocated)).toBe(0);
    for (const id of ['h1', 'h2', 'h3']) await admin.updateHost({ hostId: id, enabled: true });
  });
});
