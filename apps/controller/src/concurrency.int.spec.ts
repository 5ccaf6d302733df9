/**
 * Placement under concurrency: 4 controller replicas (in-process, sharing one Redis and one NATS,
 * each with its own gRPC server and worker queue) receive 500 creates at once for 10 hosts whose
 * capacity fits exactly 400 instances. Exactly 400 become ACTIVE, 100 are refused with NoValidHost
 * (RESOURCE_EXHAUSTED), and no host is overcommitted according to the agents' OWN accounting: each
 * fake agent counts what it was asked to spawn and refuses what does not fit on its hardware.
 */
import { NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { agent, compute, image, network } from '@minicloud/proto';
import type { Bus } from '@minicloud/platform-bus';
import type { RunningGrpcServer, ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness, partial } from './testing/controller-harness';

jest.setTimeout(90_000);

/** Hardware of each host: 10 cores x cpu ratio 4 = 40 vCPUs; RAM 40 x 512 MB (ratio 1); disk 100 GB. */
const HOST = { cores: 10, ramMb: 40 * 512, diskGb: 100 };
const FLAVOR = { vcpus: 1, ramMb: 512, diskGb: 1 };

describe('4 controller replicas, 500 concurrent creates, capacity for 400', () => {
  let harness: ControllerHarness;
  const buses: Bus[] = [];
  const agents: FakeHypervisor[] = [];
  let computeClients: ServiceClient<typeof compute.ComputeServiceService>[] = [];

  beforeAll(async () => {
    harness = await ControllerHarness.start('concurrency-test');
    const { adminToken, mint } = harness.tokens;
    const userToken = await mint('carol', 'p-carol', ['member']);
    let portSeq = 0;
    const fakeImage = await harness.startFakeImage({
      getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'qcow2', sizeBytes: 1024 } }),
    });
    const fakeNetwork = await harness.startFakeService(
      network.NetworkServiceService,
      partial<Record<string, unknown>>({
        getNetwork: async () => ({ network: { id: 'net-1', name: 'private', segmentationId: 1001, mtu: 1450 } }),
        listPorts: async () => ({ ports: [] }),
        createPort: async (req: network.CreatePortRequest) => ({ port: { id: `port-${++portSeq}`, networkId: req.networkId, deviceId: req.deviceId, macAddress: 'fa:16:3e:00:00:01', fixedIps: [] } }),
        bindPort: async (req: network.BindPortRequest) => ({ port: { id: req.portId, macAddress: 'fa:16:3e:00:00:01', fixedIps: [] } }),
        deletePort: async () => ({}),
      }),
    );
    // The schema's defaults for liveness and resync (this test does not tighten them), 32 workers per replica.
    const config = { HOST_DOWN_AFTER_MS: '5000', LIVENESS_INTERVAL_MS: '1000', RESYNC_INTERVAL_MS: '10000', WORKER_CONCURRENCY: '32' };
    const replicas: RunningGrpcServer[] = [];
    for (let i = 0; i < 4; i++) {
      const bus = await harness.connectBus(`replica-${i}`);
      buses.push(bus);
      const { grpc } = await harness.startControllerUnderTest({ bus, config, endpoints: { image: fakeImage.address, network: fakeNetwork.address } });
      replicas.push(grpc);
    }
    const registry = harness.client(agent.HostRegistryServiceService, replicas[0].address, adminToken);
    harness.addDouble({ stop: async () => void (await Promise.all(agents.map((a) => a.stop()))) });
    for (let h = 0; h < 10; h++) {
      const a = new FakeHypervisor(`host-${h}`, buses[h % 4], HOST, 5);
      await a.start(registry);
      agents.push(a);
    }
    computeClients = replicas.map((s) => harness.client(compute.ComputeServiceService, s.address, userToken, { deadlineMs: 60_000 }));
    const adminClient = harness.client(compute.ComputeServiceService, replicas[0].address, adminToken);
    await adminClient.createFlavor({ name: 'm1.unit', ...FLAVOR });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('exactly 400 ACTIVE, 100 NoValidHost, no host overcommitted by its own accounting', async () => {
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) =>
        computeClients[i % 4].createServer({ name: `c-${i}`, flavorRef: 'm1.unit', imageRef: 'img', networks: [{ networkId: 'net-1' }] }),
      ),
    );
    const ok = results.filter((r): r is PromiseFulfilledResult<compute.CreateServerResponse> => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(400);
    expect(failed).toHaveLength(100);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(ResourceExhaustedError);
      expect(String(f.reason.message)).toMatch(/No valid host was found/);
    }
    const ids = ok.flatMap((r) => r.value.servers.map((s) => s.id));
    await waitFor(
      async () => {
        const all = (await computeClients[0].listServers({ page: { pageSize: 1000 } })).servers;
        return all.length === 400 && all.every((s) => s.vmState === compute.VmState.VM_STATE_ACTIVE);
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(new Set(ids).size).toBe(400);
    // The agents' own accounting: every VM is somewhere, nothing over the hardware, nothing refused.
    expect(agents.reduce((s, a) => s + a.vms.size, 0)).toBe(400);
    for (const a of agents) {
      const u = a.used();
      expect(u.ramMb).toBeLessThanOrEqual(HOST.ramMb);
      expect(u.vcpus).toBeLessThanOrEqual(HOST.cores * 4);
      expect(a.refusedSpawns).toBe(0);
    }
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('NotFound stays NotFound across replicas (the state is shared)', async () => {
    await expect(computeClients[3].getServer({ serverId: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
