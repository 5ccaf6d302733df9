import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../compute-agent/src/wire';
import { ControllerHarness } from './testing/controller-harness';
import type { Controller } from './wire';

jest.setTimeout(60_000);

/**
 * ESXi's memory state `low` blocks new VMs, with two real agents (HP ML110 G4, 4 GiB, no page sharing)
 * over real gRPC/Redis/NATS: two 2 GiB guests touching all their memory leave host-a below 1 % free.
 * Its agent then refuses an incoming live migration (RESOURCE_EXHAUSTED host_memory_low, nothing left
 * claimed), and once its heartbeat says `low` the scheduler (which packs here, so it would pick host-a)
 * places new builds on host-b without asking host-a at all.
 */
describe('memory state low blocks new VMs (two real agents)', () => {
  let h: ControllerHarness;
  let controller: Controller;
  const handles: Record<string, AgentHandles> = {};
  let admin: ServiceClient<typeof compute.ComputeServiceService>;

  beforeAll(async () => {
    h = await ControllerHarness.start('memory-low');
    const started = await h.startControllerWithFakePeers({ config: { RAM_ALLOCATION_RATIO: '1.5', RESERVED_HOST_MEMORY_MB: '0' } });
    controller = started.controller;
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    for (const id of ['host-a', 'host-b']) handles[id] = await h.startInProcessAgent(id, registry, { HOST_PROFILE: 'hp-proliant-ml110-g4', MEMORY_SHARE_RATIO: '0' });
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-2g', name: 'two-gig', vcpus: 1, ramMb: 2048, diskGb: 1 });
    const agg = (await admin.createAggregate({ name: 'pack' })).aggregate!;
    for (const id of ['host-a', 'host-b']) await admin.addAggregateHost({ aggregateId: agg.id, hostId: id });
    await admin.setAggregateMetadata({ aggregateId: agg.id, metadata: { ram_weight_multiplier: '-1', cpu_weight_multiplier: '-1', disk_weight_multiplier: '-1', io_ops_weight_multiplier: '0' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  async function bootOn(on: string, name: string, workload: string): Promise<compute.Server> {
    const other = on === 'host-a' ? 'host-b' : 'host-a';
    await admin.updateHost({ hostId: other, enabled: false, disabledReason: 'pin' });
    try {
      return await boot(name, workload);
    } finally {
      await admin.updateHost({ hostId: other, enabled: true });
    }
  }
  async function boot(name: string, workload: string): Promise<compute.Server> {
    const id = (await admin.createServer({ name, flavorRef: 'f-2g', imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': workload } })).servers[0].id;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    return (await admin.getServer({ serverId: id })).server!;
  }
  const memoryState = (hostId: string) => handles[hostId].hosts[0].modelSnapshot().memory.state;

  it('the agent refuses an incoming live migration while low; the scheduler then avoids the host', async () => {
    for (const n of ['hog-1', 'hog-2']) expect((await bootOn('host-a', n, 'constant:1.0')).hostId).toBe('host-a');
    await waitFor(() => memoryState('host-a') === 'low', { timeoutMs: 10_000 });
    expect(memoryState('host-b')).toBe('high');

    const mover = await bootOn('host-b', 'mover', 'idle');
    const err = await admin.serverAction({ serverId: mover.id, migrate: { live: true, hostId: 'host-a' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect(err).toMatchObject({ reason: 'host_memory_low', message: expect.stringMatching(/memory state low/) });
    expect((await admin.getServer({ serverId: mover.id })).server).toMatchObject({ hostId: 'host-b', status: 'ACTIVE', taskState: compute.TaskState.TASK_STATE_UNSPECIFIED });
    expect([...(await controller.stores.allocations.get('host-a')).byInstance.keys()]).not.toContain(`${mover.id}#migration`);
    expect(handles['host-a'].hosts[0].runtime(mover.id)).toBeUndefined();

    // The flushed record lags this replica's in-memory heartbeat, which the scheduler reads.
    await waitFor(async () => (await controller.stores.hosts.find('host-a'))?.usage?.memoryState === 'low', { timeoutMs: 10_000 });
    const fresh = await boot('fresh', 'idle');
    expect(fresh.hostId).toBe('host-b');
    // Placed there at once: host-a was never asked (no refusal, no reschedule).
    expect((await controller.stores.instances.find(fresh.id))?.retryHostIds ?? []).toEqual([]);
  });
});
