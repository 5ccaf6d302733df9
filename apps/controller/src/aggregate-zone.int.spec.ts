import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness } from './testing/controller-harness';

jest.setTimeout(60_000);

type ComputeClient = ServiceClient<typeof compute.ComputeServiceService>;

/** Puts every host in an aggregate carrying availability zone `az` (the hosts' own profiles say otherwise). */
async function zoneByAggregate(admin: ComputeClient, az: string, hostIds: string[]): Promise<void> {
  const agg = (await admin.createAggregate({ name: `zone-${az}`, availabilityZone: az })).aggregate!;
  for (const id of hostIds) await admin.addAggregateHost({ aggregateId: agg.id, hostId: id });
}

async function bootActive(admin: ComputeClient, name: string): Promise<compute.Server> {
  const id = (await admin.createServer({ name, flavorRef: 'f-small', imageRef: 'img', networks: [{ networkId: 'net-1' }] })).servers[0].id;
  await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
  return (await admin.getServer({ serverId: id })).server!;
}

/**
 * One zone rule: a server created without a zone on hosts whose availability zone comes from an
 * aggregate is in that zone (not in its hosts' profile zone), and moving it (HA restart, live
 * migration) keeps it placeable there.
 */
describe('availability zone from an aggregate: HA restart (agent doubles)', () => {
  let h: ControllerHarness;
  let admin: ComputeClient;
  const hosts: FakeHypervisor[] = [];

  beforeAll(async () => {
    h = await ControllerHarness.start('zone-ha-test');
    const image = await h.startFakeImage();
    const net = await h.startFakeNetwork();
    const started = await h.startControllerUnderTest({
      endpoints: { image: image.address, network: net.server.address },
      // Fast failure detection: no heartbeat for 1.5 s and no lease (doubles hold none) -> failed, fenced soon after.
      config: { HOST_DOWN_AFTER_MS: '1500', SELF_FENCE_AFTER_MS: '300', LEASE_TTL_MS: '1000', LIVENESS_INTERVAL_MS: '200' },
    });
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    h.addDouble({ stop: async () => void (await Promise.all(hosts.map((x) => x.stop()))) });
    for (const id of ['h1', 'h2', 'h3']) {
      const x = new FakeHypervisor(id, h.bus, { cores: 8, ramMb: 16384, diskGb: 400, availabilityZone: 'rack-zone' });
      await x.start(registry);
      hosts.push(x);
    }
    await zoneByAggregate(admin, 'az-1', ['h1', 'h2', 'h3']);
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('records the aggregate zone and restarts the server on another host of that zone when its host fails', async () => {
    const s = await bootActive(admin, 'vm-ha');
    expect(s.availabilityZone).toBe('az-1');
    const failed = hosts.find((x) => x.hostId === s.hostId)!;
    await failed.stop();
    await waitFor(
      async () => {
        const cur = (await admin.getServer({ serverId: s.id })).server!;
        return cur.status === 'ACTIVE' && cur.hostId !== s.hostId;
      },
      { timeoutMs: 20_000 },
    );
    const moved = (await admin.getServer({ serverId: s.id })).server!;
    expect(moved.availabilityZone).toBe('az-1');
    expect(hosts.find((x) => x.hostId === moved.hostId)!.vms.has(s.id)).toBe(true);
  });
});

describe('availability zone from an aggregate: live migration (two real agents)', () => {
  let h: ControllerHarness;
  let admin: ComputeClient;

  beforeAll(async () => {
    h = await ControllerHarness.start('zone-lm-test');
    const image = await h.startFakeImage();
    const net = await h.startFakeNetwork();
    const started = await h.startControllerUnderTest({ endpoints: { image: image.address, network: net.server.address } });
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    for (const id of ['src', 'dst']) await h.startInProcessAgent(id, registry);
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await zoneByAggregate(admin, 'az-1', ['src', 'dst']);
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('live-migrates a server whose zone comes from an aggregate to the other host of that zone', async () => {
    const s = await bootActive(admin, 'vm-lm');
    expect(s.availabilityZone).toBe('az-1');
    const { migrationId } = await admin.serverAction({ serverId: s.id, migrate: { live: true } });
    await waitFor(async () => (await admin.listMigrations({ serverId: s.id })).migrations.some((m) => m.id === migrationId && m.status === 'completed'), { timeoutMs: 20_000 });
    const moved = (await admin.getServer({ serverId: s.id })).server!;
    expect(moved.hostId).not.toBe(s.hostId);
    expect(moved.status).toBe('ACTIVE');
    expect(moved.availabilityZone).toBe('az-1');
  });
});
