import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../../compute-agent/src/wire';
import { ControllerHarness } from '../testing/controller-harness';

jest.setTimeout(60_000);

/**
 * Nova's live_migration_timeout_action force_complete with live_migration_permit_post_copy, over two
 * real agents (TIME_SCALE 1000): a guest dirtying memory faster than the 400 Mbit/s link copies it
 * never converges; instead of being aborted at the 60 s timeout (the default action, covered by
 * live-migration.int.spec.ts) it switches to post-copy and completes on the destination.
 */
describe('live migration timeout action force_complete (two real agents)', () => {
  let h: ControllerHarness;
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  const handles: Record<string, AgentHandles> = {};

  beforeAll(async () => {
    h = await ControllerHarness.start('lm-force');
    const started = await h.startControllerWithFakePeers({
      config: { MIGRATION_MAX_BANDWIDTH_MBPS: '400', MIGRATION_AUTO_CONVERGE: 'false', MIGRATION_TIMEOUT_SECONDS: '60', MIGRATION_TIMEOUT_ACTION: 'force_complete', MIGRATION_PERMIT_POST_COPY: 'true' },
    });
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    for (const id of ['src', 'dst']) handles[id] = await h.startInProcessAgent(id, registry);
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a migration that cannot converge switches to post-copy at the timeout and completes on the destination', async () => {
    const id = (await admin.createServer({ name: 'busy', flavorRef: 'f-small', imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': 'constant:1.0' } })).servers[0].id;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    const source = (await admin.getServer({ serverId: id })).server!.hostId;
    const dest = source === 'src' ? 'dst' : 'src';
    const res = await admin.serverAction({ serverId: id, migrate: { live: true, hostId: dest } });
    await waitFor(async () => {
      const s = (await admin.getServer({ serverId: id })).server!;
      return s.hostId === dest && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
    }, { timeoutMs: 20_000 });
    const m = (await admin.listMigrations({ serverId: id })).migrations[0];
    expect(m).toMatchObject({ id: res.migrationId, status: 'completed', postCopy: true, error: '' });
    // Pre-copy ran rounds until the timeout (256 MiB at 50 MB/s: ~5.4 s a round; 60 s of model time).
    expect(m.rounds).toBeGreaterThanOrEqual(5);
    expect(Number(m.totalTimeMs)).toBeGreaterThan(60_000);
    expect(handles[dest].hosts[0].runtime(id)?.powerState).toBe('running');
    await waitFor(() => handles[source].hosts[0].runtime(id) === undefined, { timeoutMs: 5_000 });
  });
});
