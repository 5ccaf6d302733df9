import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { agent, compute, image } from '@minicloud/proto';
import type { DeepPartial, ServiceClient } from '@minicloud/platform-grpc';
import type { Redis } from '@minicloud/platform-state';
import { waitFor } from '@minicloud/testing';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness, type FakeNetwork } from './testing/controller-harness';
import { InstanceStore } from './store/instance-store';

jest.setTimeout(60_000);

describe('controller (in-process, real Redis + NATS, fake image/network/agents)', () => {
  let harness: ControllerHarness;
  let redis: Redis;
  /** Images the controller made through the fake image service (snapshots), by id. */
  const images = new Map<string, image.Image>();
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
        const made = images.get(req.imageId);
        if (made) return { image: made };
        const status = req.imageId === 'img-cirros' ? image.ImageStatus.IMAGE_STATUS_ACTIVE : req.imageId === 'img-queued' ? image.ImageStatus.IMAGE_STATUS_QUEUED : undefined;
        if (!status) throw new NotFoundError('image', req.imageId);
        return { image: { id: req.imageId, name: req.imageId, status, diskFormat: 'qcow2', sizeBytes: 1024, osHashValue: 'abc' } };
      },
      listImages: async () => ({ images: [] }),
      // Snapshots (createImage, shelve): queued records, bytes uploaded, deletes.
      createImage: async (req: image.CreateImageRequest) => {
        const id = `img-made-${images.size + 1}`;
        images.set(id, image.Image.fromPartial({ id, name: req.name, status: image.ImageStatus.IMAGE_STATUS_QUEUED, diskFormat: req.diskFormat, properties: req.properties }));
        return { image: images.get(id) };
      },
      uploadImage: async (parts: AsyncIterable<image.UploadImageRequest>) => {
        let id = '';
        for await (const p of parts) id ||= p.imageId ?? '';
        images.set(id, { ...images.get(id)!, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, sizeBytes: 1024 });
        return { image: images.get(id) };
      },
      downloadImage: async function* () {
        yield { chunk: Buffer.from('qcow2-bytes') };
      },
      deleteImage: async (req: image.DeleteImageRequest) => {
        if (!images.delete(req.imageId)) throw new NotFoundError('image', req.imageId);
        return {};
      },
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
    await expect(alice.listHosts({})).rejects.toThrow(/listHosts requires a cloud admin/);
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

  it("GetConsoleOutput reads the console from the server's agent (with the spawn's user data); another project, no token and a bad length are refused", async () => {
    const { servers } = await boot(alice, { name: 'console-vm', userData: '#!/bin/sh\necho hi\n' });
    const id = servers[0].id;
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE', { timeoutMs: 10_000 });
    expect((await alice.getConsoleOutput({ serverId: id })).output).toBe('fake console of console-vm: user_data 18 characters, key -\n');
    expect((await admin.getConsoleOutput({ serverId: id, length: 1 })).output).toMatch(/^fake console of console-vm/);
    await expect(bob.getConsoleOutput({ serverId: id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(noToken.getConsoleOutput({ serverId: id })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(alice.getConsoleOutput({ serverId: id, length: -5 })).rejects.toMatchObject({ field: 'length' });
    await expect(alice.getConsoleOutput({ serverId: '' })).rejects.toMatchObject({ field: 'server_id' });
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 10_000 });
  });

  it('SetServerFaultTolerance: admin only; on places a secondary on another host (its claim counted), off removes it; bad requests refused', async () => {
    const { servers } = await boot(alice, { name: 'ft-vm' });
    const id = servers[0].id;
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE', { timeoutMs: 10_000 });
    await expect(alice.setServerFaultTolerance({ serverId: id, enabled: true })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(bob.setServerFaultTolerance({ serverId: id, enabled: true })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(noToken.setServerFaultTolerance({ serverId: id, enabled: true })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(admin.setServerFaultTolerance({ serverId: '', enabled: true })).rejects.toMatchObject({ field: 'server_id' });
    await expect(admin.setServerFaultTolerance({ serverId: 'no-such-server', enabled: true })).rejects.toBeInstanceOf(NotFoundError);
    // Non-admins never see the FT fields.
    expect((await alice.getServer({ serverId: id })).server).toMatchObject({ ftState: '', ftSecondaryHostId: '' });
    const before = await allocatedVcpus();
    const on = (await admin.setServerFaultTolerance({ serverId: id, enabled: true })).server!;
    expect(on.ftState).toBe('starting');
    expect(on.ftSecondaryHostId).not.toBe(on.hostId);
    expect(on.ftSecondaryHostId).not.toBe('');
    expect(await allocatedVcpus()).toBe(before + 1);
    // Enabling again answers the pair as it is.
    expect((await admin.setServerFaultTolerance({ serverId: id, enabled: true })).server!.ftGeneration).toBe(on.ftGeneration);
    const secondaryAgent = agents.find((a) => a.hostId === on.ftSecondaryHostId)!;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.ftState === 'protected', { timeoutMs: 10_000 });
    expect(secondaryAgent.ftStandby.get(id)).toBe(on.ftGeneration);
    // The stream between two hosts that stay up breaks: the primary says so, the pair drops that secondary and is protected again.
    const primaryAgent = agents.find((a) => a.hostId === on.hostId)!;
    primaryAgent.ftStreamLost.set(id, on.ftGeneration);
    await waitFor(async () => {
      const s = (await admin.getServer({ serverId: id })).server!;
      return s.ftState === 'protected' && s.ftGeneration === on.ftGeneration + 2;
    }, { timeoutMs: 15_000 });
    expect(primaryAgent.ftStreamLost.has(id)).toBe(false); // ft_stop reached the primary: its output is released
    on.ftGeneration += 2;
    // A fault-tolerant server is not live-migrated (FT must be turned off first).
    await expect(admin.serverAction({ serverId: id, migrate: { live: true } })).rejects.toMatchObject({ reason: 'ft_enabled' });
    const off = (await admin.setServerFaultTolerance({ serverId: id, enabled: false })).server!;
    expect(off).toMatchObject({ ftState: 'not_protected', ftSecondaryHostId: '', ftGeneration: on.ftGeneration + 1 });
    expect(agents.some((a) => a.ftStandby.has(id))).toBe(false);
    expect(await allocatedVcpus()).toBe(before);
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 10_000 });
  });

  it("admin_pass: handed to the agent in the spawn, then gone from the record and never shown; change_password through the agent, refused as the policy and states say", async () => {
    const { servers } = await boot(alice, { name: 'pw-vm', adminPass: 'Zq7vX2mPk9Ta' });
    const id = servers[0].id;
    expect(JSON.stringify(servers)).not.toContain('Zq7vX2mPk9Ta');
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE', { timeoutMs: 10_000 });
    const spawn = agents.flatMap((a) => a.commands).find((c) => c.instanceId === id && c.spawn);
    expect(spawn?.spawn?.spec?.adminPass).toBe('Zq7vX2mPk9Ta');
    expect(JSON.stringify(await alice.getServer({ serverId: id }))).not.toContain('Zq7vX2mPk9Ta');
    const stored = await Promise.all(
      (await instanceKeys(id)).map(async (k) => {
        const type = await redis.type(k);
        return type === 'string' ? redis.get(k) : type === 'hash' ? redis.hgetall(k) : type === 'list' ? redis.lrange(k, 0, -1) : type === 'set' ? redis.smembers(k) : redis.zrange(k, 0, -1);
      }),
    );
    expect(JSON.stringify(stored)).toContain('pw-vm');
    expect(JSON.stringify(stored)).not.toContain('Zq7vX2mPk9Ta');

    await alice.serverAction({ serverId: id, changePassword: { adminPass: 'n3w-Secret' } });
    expect(agents.flatMap((a) => a.commands).filter((c) => c.instanceId === id && c.setAdminPassword).map((c) => c.setAdminPassword!.adminPass)).toEqual(['n3w-Secret']);
    await expect(bob.serverAction({ serverId: id, changePassword: { adminPass: 'x' } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(noToken.serverAction({ serverId: id, changePassword: { adminPass: 'x' } })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(alice.serverAction({ serverId: id, changePassword: { adminPass: '' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'change_password.admin_pass' });
    await expect(alice.serverAction({ serverId: id, changePassword: { adminPass: 'x'.repeat(256) } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'change_password.admin_pass' });
    await expect(boot(alice, { name: 'pw-long', adminPass: 'x'.repeat(256) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'admin_pass' });
    await alice.serverAction({ serverId: id, stop: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'SHUTOFF', { timeoutMs: 10_000 });
    await expect(alice.serverAction({ serverId: id, changePassword: { adminPass: 'x' } })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'instance_invalid_state' });
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 10_000 });
  });

  it("security_groups: named groups (by name or id) go to the server's ports; none gives the default group; unknown 400, ambiguous 409", async () => {
    const named = (await boot(alice, { name: 'sg-named', securityGroups: ['web', 'sg-default'] })).servers[0].id;
    const plain = (await boot(alice, { name: 'sg-plain' })).servers[0].id;
    await waitFor(async () => (await statusOf(alice, named)) === 'ACTIVE' && (await statusOf(alice, plain)) === 'ACTIVE', { timeoutMs: 10_000 });
    const portOf = (id: string) => [...ports.values()].find((p) => p.deviceId === id)!;
    // a name resolves among the caller's project's groups first (p-bob also has a web)
    expect(portOf(named).securityGroupIds).toEqual(['sg-web', 'sg-default']);
    expect(portOf(plain).securityGroupIds).toEqual(['sg-default']);

    const before = (await alice.listServers({})).servers.length;
    await expect(boot(alice, { securityGroups: ['nope'] })).rejects.toThrow(/security_groups: Security group nope not found for project p-alice/);
    await expect(boot(alice, { securityGroups: ['dup'] })).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(boot(alice, { securityGroups: ['x'.repeat(256)] })).rejects.toThrow(/security_groups/);
    await expect(boot(alice, { securityGroups: Array.from({ length: 129 }, (_, i) => `g${i}`) })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await alice.listServers({})).servers).toHaveLength(before);
    await Promise.all([named, plain].map((id) => alice.deleteServer({ serverId: id })));
    await waitFor(async () => (await gone(named)) && (await gone(plain)), { timeoutMs: 10_000 });
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
    expect(await field(boot(alice, { networks: [{ networkId: '' }] }))).toBe('networks[0].network_id');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 0, ramMb: 512, diskGb: 1 }))).toBe('vcpus');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 1, ramMb: -5, diskGb: 1 }))).toBe('ram_mb');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 1, ramMb: 512, diskGb: -1 }))).toBe('disk_gb');
    expect(await field(admin.createFlavor({ name: 'bad', vcpus: 1, ramMb: 512, diskGb: 1, extraSpecs: { 'quota:cpu_limit': 'fast' } }))).toBe('extra_specs.quota:cpu_limit');
    expect(await field(admin.setFlavorExtraSpecs({ flavorId: 'm1.small', extraSpecs: { 'quota:cpu_shares_level': 'urgent' } }))).toBe('extra_specs.quota:cpu_shares_level');
    await expect(admin.createFlavor({ name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1 })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(alice.createFlavor({ name: 'mine', vcpus: 1, ramMb: 512, diskGb: 1 })).rejects.toThrow(/createFlavor requires a cloud admin/);
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

  it('a client token held by a create that died before making its servers passes to a retry once its lease expires; the dead create cannot write after', async () => {
    const store = new InstanceStore(redis);
    // the dying holder: token reserved (with its lease), nothing created
    expect(await store.reserveClientToken('p-alice', 'tok-dead', 'r-dead')).toBeUndefined();
    await expect(boot(alice, { name: 'retry', clientToken: 'tok-dead' })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'in_progress' });
    expect((await alice.listServers({ name: 'retry' })).servers).toHaveLength(0);
    await redis.del('mc:controller:client_token:p-alice:tok-dead:lease'); // the lease runs out (30 s)
    const retried = await boot(alice, { name: 'retry', clientToken: 'tok-dead' });
    expect(retried.reservationId).not.toBe('r-dead');
    expect((await boot(alice, { name: 'retry', clientToken: 'tok-dead' })).servers.map((x) => x.id)).toEqual(retried.servers.map((x) => x.id));
    // the old holder wakes and tries to store its servers: refused, nothing written
    const late = { ...(await store.get(retried.servers[0].id)), id: 'late-server', reservationId: 'r-dead' };
    await expect(store.createMany([late], { projectId: 'p-alice', token: 'tok-dead' })).rejects.toMatchObject({ reason: 'client_token_taken_over' });
    expect(await store.find('late-server')).toBeUndefined();
    expect((await alice.listServers({ name: 'retry' })).servers).toHaveLength(1);
    const id = retried.servers[0].id;
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 10_000 });
    expect(await redis.keys('mc:controller:client_token:*')).toEqual([]);
  });

  it('private flavors: visible and bootable only for granted projects and admins; access writes are admin; delete keeps servers', async () => {
    const f = (await admin.createFlavor({ id: 'priv-1', name: 'm1.private', vcpus: 1, ramMb: 256, diskGb: 1, isPublic: false, rxtxFactor: 2.5 })).flavor!;
    expect(f).toMatchObject({ isPublic: false, rxtxFactor: 2.5 });
    const listed = async (c: typeof alice, isPublic?: boolean) => (await c.listFlavors({ isPublic })).flavors.map((x) => x.id).sort();
    expect(await listed(admin)).toContain('priv-1');
    expect(await listed(admin, true)).not.toContain('priv-1');
    expect(await listed(admin, false)).toEqual(['priv-1']);
    expect(await listed(alice)).not.toContain('priv-1');
    await expect(alice.getFlavor({ flavorRef: 'priv-1' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(boot(alice, { flavorRef: 'priv-1' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(admin.listFlavorAccess({ flavorId: 'm1.small' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(admin.addFlavorAccess({ flavorId: 'm1.small', projectId: 'p-alice' })).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(alice.addFlavorAccess({ flavorId: 'priv-1', projectId: 'p-alice' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(noToken.listFlavorAccess({ flavorId: 'priv-1' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(admin.addFlavorAccess({ flavorId: 'priv-1', projectId: '' })).rejects.toBeInstanceOf(InvalidArgumentError);

    expect((await admin.addFlavorAccess({ flavorId: 'priv-1', projectId: 'p-alice' })).projectIds).toEqual(['p-alice']);
    await expect(admin.addFlavorAccess({ flavorId: 'priv-1', projectId: 'p-alice' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await listed(alice)).toContain('priv-1');
    // is_public filters admins' lists only: a member still sees the public flavors and the granted ones
    const smallId = (await alice.getFlavor({ flavorRef: 'm1.small' })).flavor!.id;
    expect(await listed(alice, false)).toEqual(expect.arrayContaining([smallId, 'priv-1']));
    expect(await listed(bob)).not.toContain('priv-1');
    const id = (await boot(alice, { name: 'priv', flavorRef: 'priv-1' })).servers[0].id;
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE', { timeoutMs: 10_000 });

    await expect(admin.removeFlavorAccess({ flavorId: 'priv-1', projectId: 'p-bob' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await admin.removeFlavorAccess({ flavorId: 'priv-1', projectId: 'p-alice' })).projectIds).toEqual([]);
    await expect(alice.getFlavor({ flavorRef: 'priv-1' })).rejects.toBeInstanceOf(NotFoundError);
    await admin.addFlavorAccess({ flavorId: 'priv-1', projectId: 'p-alice' });
    await admin.deleteFlavor({ flavorId: 'priv-1' });
    expect((await alice.getServer({ serverId: id })).server!.flavor).toMatchObject({ id: 'priv-1', ramMb: 256 });
    expect(await redis.exists('mc:controller:flavor:priv-1:projects')).toBe(0);
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 10_000 });
  });

  it('hosts carry a stable integer service id; aggregates an integer id, times, rename and a 409 for a host already in', async () => {
    const ids = (await admin.listHosts({})).hosts.map((h) => Number(h.serviceId));
    expect(ids.every((n) => Number.isInteger(n) && n > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const h1Before = Number((await admin.getHost({ hostId: 'h1' })).host!.serviceId);
    await agents[0].restart();
    expect(Number((await admin.getHost({ hostId: 'h1' })).host!.serviceId)).toBe(h1Before);

    const a = (await admin.createAggregate({ name: 'numbered' })).aggregate!;
    expect(Number(a.numericId)).toBeGreaterThan(0);
    expect(a.createdAt).toBeInstanceOf(Date);
    expect(a.updatedAt).toBeUndefined();
    const b = (await admin.createAggregate({ name: 'numbered-2' })).aggregate!;
    expect(Number(b.numericId)).toBe(Number(a.numericId) + 1);
    await admin.addAggregateHost({ aggregateId: String(a.numericId), hostId: 'h2' });
    await expect(admin.addAggregateHost({ aggregateId: a.id, hostId: 'h2' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const renamed = (await admin.updateAggregate({ aggregateId: a.id, name: 'renamed', availabilityZone: 'az-r' })).aggregate!;
    expect(renamed).toMatchObject({ name: 'renamed', availabilityZone: 'az-r', metadata: { availability_zone: 'az-r' }, hostIds: ['h2'] });
    expect(renamed.updatedAt).toBeInstanceOf(Date);
    await expect(admin.updateAggregate({ aggregateId: b.id, name: 'renamed' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(admin.updateAggregate({ aggregateId: b.id, name: ' ' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(alice.updateAggregate({ aggregateId: b.id, name: 'mine' })).rejects.toBeInstanceOf(PermissionDeniedError);
    const cleared = (await admin.updateAggregate({ aggregateId: a.id, availabilityZone: '' })).aggregate!;
    expect(cleared.metadata).toEqual({});
    await admin.removeAggregateHost({ aggregateId: a.id, hostId: 'h2' });
    await admin.deleteAggregate({ aggregateId: a.id });
    await admin.deleteAggregate({ aggregateId: String(b.numericId) });
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

  it('ListServers pages newest first (created_at, then id, descending) by page token or marker, from the index or through filters; an unknown or foreign marker is refused', async () => {
    const first = (await boot(alice, { name: 'pg', minCount: 3, maxCount: 3 })).servers.map((s) => s.id);
    const second = (await boot(alice, { name: 'pg', minCount: 2, maxCount: 2 })).servers.map((s) => s.id);
    const expected = [...second.sort().reverse(), ...first.sort().reverse()];
    const walk = async (req: DeepPartial<compute.ListServersRequest>, by: 'token' | 'marker') => {
      const seen: string[] = [];
      let page = await alice.listServers({ ...req, page: { pageSize: 2 } });
      for (;;) {
        seen.push(...page.servers.map((s) => s.id));
        if (!page.page?.nextPageToken) return seen;
        page = await alice.listServers({ ...req, ...(by === 'token' ? { page: { pageSize: 2, pageToken: page.page.nextPageToken } } : { marker: seen.at(-1), page: { pageSize: 2 } }) });
      }
    };
    expect(await walk({}, 'token')).toEqual(expected);
    expect(await walk({}, 'marker')).toEqual(expected);
    expect(await walk({ name: 'pg' }, 'marker')).toEqual(expected); // the filtered path, same order
    // the index is rebuilt from the records when it does not hold them all (state from before it existed)
    await redis.del('mc:controller:instances:by_created', 'mc:controller:project:p-alice:instances:by_created');
    const page = await new InstanceStore(redis).pageByCreated('p-alice', { start: 0 }, 1000);
    expect([page.records.map((r) => r.id), page.more]).toEqual([expected, false]);
    expect(await redis.zcard('mc:controller:instances:by_created')).toBeGreaterThanOrEqual(expected.length);
    await expect(alice.listServers({ marker: 'no-such-server' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'marker' });
    const bobs = (await boot(bob, { name: 'other' })).servers[0].id;
    await expect(alice.listServers({ marker: bobs })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(noToken.listServers({ marker: expected[0] })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await Promise.all([...expected.map((id) => alice.deleteServer({ serverId: id })), bob.deleteServer({ serverId: bobs })]);
    await waitFor(async () => (await Promise.all([...expected, bobs].map(gone))).every(Boolean), { timeoutMs: 10_000 });
    expect(await redis.zcard('mc:controller:project:p-alice:instances:by_created')).toBe(0);
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
    // a stopped server is rebuilt and stays stopped (Nova stops it again after the rebuild)
    await alice.serverAction({ serverId: id, stop: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'SHUTOFF' && (await idle()), { timeoutMs: 5000 });
    await alice.serverAction({ serverId: id, rebuild: { imageRef: 'img-cirros' } });
    await waitFor(async () => (await alice.getServer({ serverId: id })).server!.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && (await statusOf(alice, id)) !== 'REBUILD', { timeoutMs: 5000 });
    expect(await alice.getServer({ serverId: id }).then((x) => [x.server!.status, x.server!.powerState])).toEqual(['SHUTOFF', compute.PowerState.POWER_STATE_SHUTDOWN]);
    await alice.serverAction({ serverId: id, start: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE' && (await idle()), { timeoutMs: 5000 });
    const before = await allocatedVcpus();
    await alice.serverAction({ serverId: id, shelve: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'SHELVED_OFFLOADED', { timeoutMs: 5000 });
    expect((await admin.getServer({ serverId: id })).server!.hostId).toBe('');
    expect(await allocatedVcpus()).toBe(before - 1);
    // Nova's shelve snapshot: `<name>-shelved`, uploaded (active), with the snapshot properties
    const shelved = [...images.values()].filter((i) => i.name === 'life-shelved');
    expect(shelved.map((i) => [i.status, i.properties?.image_type, i.properties?.instance_uuid])).toEqual([[image.ImageStatus.IMAGE_STATUS_ACTIVE, 'snapshot', id]]);
    await alice.serverAction({ serverId: id, unshelve: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'ACTIVE' && (await idle()), { timeoutMs: 5000 });
    expect(await allocatedVcpus()).toBe(before);
    // unshelve deletes the snapshot once the guest runs again
    await waitFor(async () => !images.has(shelved[0].id), { timeoutMs: 5000 });
    // a server deleted while shelved takes its snapshot with it
    await alice.serverAction({ serverId: id, shelve: {} });
    await waitFor(async () => (await statusOf(alice, id)) === 'SHELVED_OFFLOADED', { timeoutMs: 5000 });
    const second = [...images.values()].find((i) => i.name === 'life-shelved')!;
    const actions = (await alice.listInstanceActions({ serverId: id })).actions.map((a) => `${a.action}:${a.result}`);
    expect(actions).toEqual(['create:Success', 'lock:Success', 'unlock:Success', 'rescue:Success', 'unrescue:Success', 'rebuild:Success', 'stop:Success', 'rebuild:Success', 'start:Success', 'shelve:Success', 'unshelve:Success', 'shelve:Success']);
    await alice.deleteServer({ serverId: id });
    await waitFor(() => gone(id), { timeoutMs: 5000 });
    expect(images.has(second.id)).toBe(false);
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
