import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../../compute-agent/src/wire';
import { ControllerHarness } from '../testing/controller-harness';
import type { Controller } from '../wire';

jest.setTimeout(60_000);

/**
 * Nova's server migrations API on a running live migration, over two real agents (TIME_SCALE 1000):
 * AbortServerMigration and ForceCompleteServerMigration. The link is 400 Mbit/s with no
 * auto-converge and no practical timeout, so a guest dirtying 100 MiB/s (constant:1.0) would copy
 * rounds for ever: only the API call ends its migration. Post-copy is not permitted here, so
 * force-complete pauses the guest and copies everything left at once (Nova's libvirt driver).
 */
describe('server migrations API: abort and force-complete (two real agents)', () => {
  let h: ControllerHarness;
  let controller: Controller;
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  let otherMember: ServiceClient<typeof compute.ComputeServiceService>;
  let noToken: ServiceClient<typeof compute.ComputeServiceService>;
  const handles: Record<string, AgentHandles> = {};

  beforeAll(async () => {
    h = await ControllerHarness.start('lm-api');
    const started = await h.startControllerWithFakePeers({
      config: { MIGRATION_MAX_BANDWIDTH_MBPS: '400', MIGRATION_AUTO_CONVERGE: 'false', MIGRATION_TIMEOUT_SECONDS: '100000' },
    });
    controller = started.controller;
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    otherMember = h.client(compute.ComputeServiceService, started.grpc.address, await h.tokens.mint('mallory', 'other-project', ['member']));
    noToken = h.client(compute.ComputeServiceService, started.grpc.address, undefined);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    for (const id of ['src', 'dst']) handles[id] = await h.startInProcessAgent(id, registry);
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** A busy server live-migrating, with its migration running and past its first round. */
  async function runningMigration(name: string): Promise<{ id: string; source: string; dest: string; migrationId: string }> {
    const id = (await admin.createServer({ name, flavorRef: 'f-small', imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': 'constant:1.0' } })).servers[0].id;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    const source = (await admin.getServer({ serverId: id })).server!.hostId;
    const dest = source === 'src' ? 'dst' : 'src';
    const { migrationId } = await admin.serverAction({ serverId: id, migrate: { live: true, hostId: dest } });
    await waitFor(async () => {
      const m = (await admin.listMigrations({ serverId: id })).migrations.find((x) => x.id === migrationId);
      return m?.status === 'running' && m.rounds >= 2;
    }, { timeoutMs: 20_000 });
    return { id, source, dest, migrationId };
  }
  const migrationOf = async (id: string, migrationId: string) => (await admin.listMigrations({ serverId: id })).migrations.find((x) => x.id === migrationId)!;
  const allocs = async (hostId: string) => [...(await controller.stores.allocations.get(hostId)).byInstance.keys()];

  it('force-complete ends a migration that cannot converge: the paused guest is copied whole and runs on the destination', async () => {
    const { id, source, dest, migrationId } = await runningMigration('busy-force');
    const res = await admin.forceCompleteServerMigration({ serverId: id, migrationId });
    expect(res.migration).toMatchObject({ id: migrationId, status: 'running' });
    await waitFor(async () => {
      const s = (await admin.getServer({ serverId: id })).server!;
      return s.hostId === dest && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
    }, { timeoutMs: 20_000 });
    await waitFor(async () => (await migrationOf(id, migrationId)).status === 'completed', { timeoutMs: 5_000 });
    const m = await migrationOf(id, migrationId);
    expect(m).toMatchObject({ status: 'completed', postCopy: false, error: '' });
    // Everything dirty at the switch (all 256 MiB at 100 MiB/s) went while paused: far past QEMU's 300 ms downtime limit.
    expect(Number(m.downtimeMs)).toBeGreaterThan(1_000);
    expect(handles[dest].hosts[0].runtime(id)?.powerState).toBe('running');
    await waitFor(() => handles[source].hosts[0].runtime(id) === undefined, { timeoutMs: 5_000 });
    // Past its end the migration can be neither forced nor aborted again.
    await expect(admin.forceCompleteServerMigration({ serverId: id, migrationId })).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(admin.abortServerMigration({ serverId: id, migrationId })).rejects.toThrow(/is completed/);
  });

  it('abort stops a running migration: the server keeps running on its source and the destination claim is returned', async () => {
    const { id, source, dest, migrationId } = await runningMigration('busy-abort');
    await admin.abortServerMigration({ serverId: id, migrationId });
    await waitFor(async () => (await migrationOf(id, migrationId)).status === 'cancelled', { timeoutMs: 20_000 });
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED, { timeoutMs: 10_000 });
    const s = (await admin.getServer({ serverId: id })).server!;
    expect(s).toMatchObject({ hostId: source, status: 'ACTIVE' });
    expect(handles[source].hosts[0].runtime(id)?.powerState).toBe('running');
    await waitFor(() => handles[dest].hosts[0].runtime(id) === undefined, { timeoutMs: 5_000 });
    await waitFor(async () => !(await allocs(dest)).includes(`${id}#migration`), { timeoutMs: 5_000 });
    expect(await allocs(source)).toContain(id);
  });

  it('refuses a member of another project, a caller without credentials and malformed or unknown ids, changing nothing', async () => {
    const { id, source, migrationId } = await runningMigration('busy-refused');
    await expect(otherMember.abortServerMigration({ serverId: id, migrationId })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(otherMember.forceCompleteServerMigration({ serverId: id, migrationId })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(noToken.abortServerMigration({ serverId: id, migrationId })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(noToken.forceCompleteServerMigration({ serverId: id, migrationId })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(admin.abortServerMigration({ serverId: id, migrationId: '' })).rejects.toThrow(/migration_id/);
    await expect(admin.forceCompleteServerMigration({ serverId: '', migrationId })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(admin.forceCompleteServerMigration({ serverId: id, migrationId: 'no-such-migration' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(admin.abortServerMigration({ serverId: 'no-such-server', migrationId })).rejects.toBeInstanceOf(NotFoundError);
    // The refused calls changed nothing: the migration still runs from the source.
    const m = await migrationOf(id, migrationId);
    expect(m.status).toBe('running');
    expect((await admin.getServer({ serverId: id })).server!.hostId).toBe(source);
    await admin.abortServerMigration({ serverId: id, migrationId });
    await waitFor(async () => (await migrationOf(id, migrationId)).status === 'cancelled', { timeoutMs: 20_000 });
  });
});
