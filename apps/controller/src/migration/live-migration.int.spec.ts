import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../../compute-agent/src/wire';
import { ControllerHarness, type FakeNetwork } from '../testing/controller-harness';
import type { Controller } from '../wire';

jest.setTimeout(60_000);

/**
 * Controller in-process with two real compute agents (wireComputeAgent, TIME_SCALE 1000) over real
 * gRPC/Redis/NATS; network and image are fakes recording port bindings. Migration limits: 400 Mbit/s,
 * no auto-converge, 60 s timeout, so an idle VM converges and a constant:1.0 VM (100 MiB/s dirty) times out.
 */
describe('live migration, controller side (two real agents)', () => {
  let h: ControllerHarness;
  let controller: Controller;
  let ports: FakeNetwork['ports'];
  const handles: Record<string, AgentHandles> = {};
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  let member: ServiceClient<typeof compute.ComputeServiceService>;

  beforeAll(async () => {
    h = await ControllerHarness.start('lm-test');
    const { adminToken, mint } = h.tokens;
    const memberToken = await mint('alice', 'service', ['member']);
    const fakeImage = await h.startFakeImage();
    const fakeNetwork = await h.startFakeNetwork();
    ports = fakeNetwork.ports;
    const started = await h.startControllerUnderTest({
      endpoints: { image: fakeImage.address, network: fakeNetwork.server.address },
      config: { MIGRATION_MAX_BANDWIDTH_MBPS: '400', MIGRATION_AUTO_CONVERGE: 'false', MIGRATION_TIMEOUT_SECONDS: '60' },
    });
    controller = started.controller;
    admin = h.client(compute.ComputeServiceService, started.grpc.address, adminToken);
    member = h.client(compute.ComputeServiceService, started.grpc.address, memberToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, adminToken);

    for (const id of ['src', 'dst']) handles[id] = await h.startInProcessAgent(id, registry);
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  const runtime = (hostId: string, id: string) => handles[hostId].hosts[0].runtime(id);
  async function bootOnSrc(name: string, workload: string): Promise<compute.Server> {
    const { servers } = await admin.createServer({ name, flavorRef: 'f-small', imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': workload } });
    const id = servers[0].id;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    const s = (await admin.getServer({ serverId: id })).server!;
    return s;
  }
  const allocs = async (hostId: string) => [...(await controller.stores.allocations.get(hostId)).byInstance.keys()];

  it('live-migrates an idle VM: it ends running on the destination only, claims moved, ports rebound, record completed', async () => {
    const s = await bootOnSrc('vm-a', 'idle');
    const source = s.hostId;
    const dest = source === 'src' ? 'dst' : 'src';
    const res = await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: '' } });
    expect(res.migrationId).toBeTruthy();
    expect(res.server!.taskState).toBe(compute.TaskState.TASK_STATE_MIGRATING);

    await waitFor(async () => {
      const cur = (await admin.getServer({ serverId: s.id })).server!;
      return cur.hostId === dest && cur.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
    }, { timeoutMs: 20_000 });
    expect((await admin.getServer({ serverId: s.id })).server!.status).toBe('ACTIVE');
    await waitFor(() => runtime(source, s.id) === undefined, { timeoutMs: 5_000 });
    expect(runtime(dest, s.id)?.powerState).toBe('running');
    expect(await allocs(source)).not.toContain(s.id);
    expect(await allocs(dest)).toContain(s.id);
    expect(await allocs(dest)).not.toContain(`${s.id}#migration`);
    const portIds = [...ports.values()].filter((p) => p.deviceId === s.id).map((p) => p.id);
    expect(portIds.length).toBe(1);
    expect(ports.get(portIds[0])!.bindingHostId).toBe(dest);

    const { migrations } = await admin.listMigrations({ serverId: s.id });
    expect(migrations).toHaveLength(1);
    expect(migrations[0]).toMatchObject({ id: res.migrationId, migrationType: 'live-migration', sourceHostId: source, destHostId: dest, status: 'completed', remainingBytes: 0 });
    expect(migrations[0].rounds).toBeGreaterThanOrEqual(1);
    expect(Number(migrations[0].transferredBytes)).toBeGreaterThan(0);
    expect(Number(migrations[0].downtimeMs)).toBeLessThanOrEqual(300);
    const actions = (await admin.listInstanceActions({ serverId: s.id })).actions;
    expect(actions.find((a) => a.action === 'live-migration')).toMatchObject({ result: 'Success' });
    // ListMigrations is admin-only (policy table, as Nova's os-migrations).
    await expect(member.listMigrations({ serverId: s.id })).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it('a VM that cannot converge times out: it stays running on the source, the destination claim is released', async () => {
    const s = await bootOnSrc('vm-b', 'constant:1.0');
    const source = s.hostId;
    const dest = source === 'src' ? 'dst' : 'src';
    const res = await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: dest } });
    expect(await allocs(dest)).toContain(`${s.id}#migration`);
    await waitFor(async () => (await admin.listMigrations({ serverId: s.id })).migrations[0]?.status === 'failed', { timeoutMs: 20_000 });
    const cur = (await admin.getServer({ serverId: s.id })).server!;
    expect(cur).toMatchObject({ hostId: source, status: 'ACTIVE', taskState: compute.TaskState.TASK_STATE_UNSPECIFIED });
    expect(runtime(source, s.id)?.powerState).toBe('running');
    await waitFor(() => runtime(dest, s.id) === undefined, { timeoutMs: 5_000 });
    expect(await allocs(dest)).not.toContain(`${s.id}#migration`);
    expect(await allocs(source)).toContain(s.id);
    const m = (await admin.listMigrations({ serverId: s.id })).migrations[0];
    expect(m.id).toBe(res.migrationId);
    expect(m.error).toMatch(/timeout/);
    expect((await admin.listInstanceActions({ serverId: s.id })).actions.find((a) => a.action === 'live-migration')).toMatchObject({ result: 'Error' });
  });

  it('cold migration (live=false): powered off, moved, VERIFY_RESIZE; confirm leaves it ACTIVE on the destination only', async () => {
    const s = await bootOnSrc('vm-cold', 'idle');
    const source = s.hostId;
    const dest = source === 'src' ? 'dst' : 'src';
    const res = await admin.serverAction({ serverId: s.id, migrate: { live: false, hostId: '' } });
    expect(res.migrationId).toBeTruthy();
    await waitFor(async () => (await admin.getServer({ serverId: s.id })).server!.status === 'VERIFY_RESIZE', { timeoutMs: 15_000 });
    expect((await admin.getServer({ serverId: s.id })).server!.hostId).toBe(dest);
    expect(runtime(source, s.id)).toBeUndefined();
    await admin.serverAction({ serverId: s.id, confirmResize: {} });
    await waitFor(async () => (await admin.getServer({ serverId: s.id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    expect(runtime(dest, s.id)?.powerState).toBe('running');
    expect(await allocs(source)).not.toContain(s.id);
    expect(await allocs(dest)).toContain(s.id);
    const port = [...ports.values()].find((p) => p.deviceId === s.id)!;
    expect(port.bindingHostId).toBe(dest);
  });

  it('maintenance drains the host by live migration, respecting anti-affinity', async () => {
    const group = (await admin.createServerGroup({ name: 'anti', policy: 'anti-affinity' })).serverGroup!;
    const boot = async (name: string, hints: Record<string, string> = {}) => {
      const id = (await admin.createServer({ name, flavorRef: 'f-small', imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': 'idle' }, schedulerHints: hints })).servers[0].id;
      await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
      return (await admin.getServer({ serverId: id })).server!;
    };
    const g1 = await boot('g1', { group: group.id });
    const g2 = await boot('g2', { group: group.id });
    expect(g2.hostId).not.toBe(g1.hostId);
    const h = g1.hostId;
    const other = h === 'src' ? 'dst' : 'src';
    await admin.updateHost({ hostId: other, enabled: false, disabledReason: 'pin' });
    const free = await boot('free').finally(() => admin.updateHost({ hostId: other, enabled: true }));
    expect(free.hostId).toBe(h);

    await admin.updateHost({ hostId: h, maintenance: true });
    await waitFor(async () => (await admin.getServer({ serverId: free.id })).server!.hostId === other, { timeoutMs: 20_000 });
    await waitFor(async () => (await admin.listMigrations({ serverId: g1.id })).migrations.length === 0 && (await admin.getServer({ serverId: free.id })).server!.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED, { timeoutMs: 5_000 });
    // g1 has nowhere to go (the only other host holds g2): it stays, ACTIVE, no task, nothing claimed for it elsewhere.
    expect((await admin.getServer({ serverId: g1.id })).server).toMatchObject({ hostId: h, status: 'ACTIVE', taskState: compute.TaskState.TASK_STATE_UNSPECIFIED });
    expect(await allocs(other)).not.toContain(`${g1.id}#migration`);
    expect(runtime(other, free.id)?.powerState).toBe('running');
    await admin.updateHost({ hostId: h, maintenance: false });
  });

  it('refuses non-admins, the source as target, unknown hosts and non-ACTIVE servers, leaving nothing behind', async () => {
    const s = await bootOnSrc('vm-c', 'idle');
    await expect(member.serverAction({ serverId: s.id, migrate: { live: true } })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: s.hostId } })).rejects.toThrow(InvalidArgumentError);
    await expect(admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: s.hostId } })).rejects.toThrow(/migrate.host_id/);
    await expect(admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: 'nope' } })).rejects.toBeInstanceOf(NotFoundError);
    await admin.serverAction({ serverId: s.id, stop: {} });
    await waitFor(async () => (await admin.getServer({ serverId: s.id })).server!.status === 'SHUTOFF', { timeoutMs: 10_000 });
    await expect(admin.serverAction({ serverId: s.id, migrate: { live: true } })).rejects.toBeInstanceOf(FailedPreconditionError);
    expect((await admin.listMigrations({ serverId: s.id })).migrations).toHaveLength(0);
    for (const h of ['src', 'dst']) expect(await allocs(h)).not.toContain(`${s.id}#migration`);
  });
});
