/**
 * Acceptance test of issue 4: 4 controller replicas (in-process, sharing one Redis and one NATS,
 * each with its own gRPC server and worker queue) receive 500 creates at once for 10 hosts whose
 * capacity fits exactly 400 instances. Exactly 400 become ACTIVE, 100 are refused with NoValidHost
 * (RESOURCE_EXHAUSTED), and no host is overcommitted according to the agents' OWN accounting: each
 * fake agent counts what it was asked to spawn and refuses what does not fit on its hardware.
 */
import { FailedPreconditionError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { agent, compute, events, image, network } from '@minicloud/proto';
import { createTokenVerifier, expandRoles, generateSigningKey, RevocationList, signToken } from '@minicloud/platform-auth';
import { connectBus, heartbeatSubject, Subjects, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { controllerConfigSchema } from './config';
import { createController, type Controller } from './wire';

jest.setTimeout(90_000);

const logger = silentLogger();
const partial = <T extends object>(impl: Partial<T>): T =>
  new Proxy(impl, {
    get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (async () => Promise.reject(new FailedPreconditionError(`fake: ${String(k)} not faked`))),
  }) as T;

/** Hardware of each host: 10 cores x cpu ratio 4 = 40 vCPUs; RAM 40 x 512 MB (ratio 1); disk 100 GB. */
const HOST = { cores: 10, ramMb: 40 * 512, diskGb: 100 };
const FLAVOR = { vcpus: 1, ramMb: 512, diskGb: 1 };

/** A fake hypervisor with its own accounting (it is the judge of overcommit). */
class AccountingAgent {
  epoch = 0;
  seq = 0;
  readonly vms = new Map<string, { vcpus: number; ramMb: number; diskGb: number }>();
  refusedSpawns = 0;
  server!: RunningGrpcServer;
  private timer?: NodeJS.Timeout;
  constructor(
    readonly hostId: string,
    private readonly bus: Bus,
  ) {}

  used() {
    let ramMb = 0;
    let vcpus = 0;
    for (const v of this.vms.values()) {
      ramMb += v.ramMb;
      vcpus += v.vcpus;
    }
    return { ramMb, vcpus, count: this.vms.size };
  }

  async start(registry: ServiceClient<typeof agent.HostRegistryServiceService>) {
    this.server = await startGrpcServer({
      port: 0,
      logger,
      services: [
        {
          definition: agent.HypervisorServiceService as never,
          handlers: partial<Record<string, unknown>>({
            executeCommand: async (req: agent.ExecuteCommandRequest) => {
              if (req.epoch !== this.epoch) throw new FailedPreconditionError('stale epoch', 'stale_epoch');
              const id = req.instanceId;
              if (req.spawn) {
                if (!this.vms.has(id)) {
                  const f = req.spawn.spec!.flavor!;
                  if (this.used().ramMb + f.ramMb > HOST.ramMb) {
                    this.refusedSpawns++;
                    throw new ResourceExhaustedError(`host ${this.hostId} out of RAM`, 'host_ram_exhausted');
                  }
                  this.vms.set(id, { vcpus: f.vcpus, ramMb: f.ramMb, diskGb: f.diskGb });
                  setTimeout(() => {
                    void this.bus.publishEvent(Subjects.powerStateReported, events.InstancePowerStateReported, {
                      instanceId: id,
                      hostId: this.hostId,
                      epoch: this.epoch,
                      powerState: compute.PowerState.POWER_STATE_RUNNING,
                      reason: 'spawned',
                      sequence: ++this.seq,
                    });
                  }, 5);
                }
                return { instance: { instanceId: id, hostId: this.hostId, powerState: compute.PowerState.POWER_STATE_NOSTATE } };
              }
              if (req.destroy) {
                this.vms.delete(id);
                return {};
              }
              throw new FailedPreconditionError('accounting agent: command not supported');
            },
          }),
        } as never,
      ],
    });
    const res = await registry.registerHost({
      profile: { hostId: this.hostId, hostname: this.hostId, sockets: 1, coresPerSocket: HOST.cores, threadsPerCore: 1, ramMb: HOST.ramMb, diskGb: HOST.diskGb, hypervisorType: 'qemu', architecture: 'x86_64' },
      agentEndpoint: this.server.address,
      tunnelIp: '192.0.2.1',
    });
    this.epoch = res.epoch;
    const beat = () => this.bus.publishCore(heartbeatSubject(this.hostId), events.Heartbeat, { hostId: this.hostId, epoch: this.epoch, sequence: ++this.seq });
    beat();
    this.timer = setInterval(beat, 300);
  }

  async stop() {
    clearInterval(this.timer);
    await this.server?.shutdown(100);
  }
}

describe('4 controller replicas, 500 concurrent creates, capacity for 400', () => {
  let redisServer: ServerHandle;
  let natsServer: ServerHandle;
  let redis: Redis;
  const buses: Bus[] = [];
  const controllers: Controller[] = [];
  const servers: RunningGrpcServer[] = [];
  const agents: AccountingAgent[] = [];
  const clients: { close(): void }[] = [];
  const ac = new AbortController();
  const running: Promise<unknown>[] = [];
  let computeClients: ServiceClient<typeof compute.ComputeServiceService>[] = [];

  beforeAll(async () => {
    [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
    redis = await connectRedis({ url: redisServer.url, name: 'concurrency-test', logger });
    const key = await generateSigningKey(Date.now());
    const tok = async (userId: string, projectId: string, roles: string[]) =>
      (await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles: expandRoles(roles) }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
    const adminToken = await tok('minicloud', 'service', ['admin']);
    const userToken = await tok('carol', 'p-carol', ['member']);
    let portSeq = 0;
    const fakes = await Promise.all([
      startGrpcServer({
        port: 0,
        logger,
        services: [
          {
            definition: image.ImageServiceService as never,
            handlers: partial<Record<string, unknown>>({
              getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'qcow2', sizeBytes: 1024 } }),
            }),
          } as never,
        ],
      }),
      startGrpcServer({
        port: 0,
        logger,
        services: [
          {
            definition: network.NetworkServiceService as never,
            handlers: partial<Record<string, unknown>>({
              getNetwork: async () => ({ network: { id: 'net-1', name: 'private', segmentationId: 1001, mtu: 1450 } }),
              listPorts: async () => ({ ports: [] }),
              createPort: async (req: network.CreatePortRequest) => ({ port: { id: `port-${++portSeq}`, networkId: req.networkId, deviceId: req.deviceId, macAddress: 'fa:16:3e:00:00:01', fixedIps: [] } }),
              bindPort: async (req: network.BindPortRequest) => ({ port: { id: req.portId, macAddress: 'fa:16:3e:00:00:01', fixedIps: [] } }),
              deletePort: async () => ({}),
            }),
          } as never,
        ],
      }),
    ]);
    servers.push(...fakes);
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
    const config = loadConfig(controllerConfigSchema, { GRPC_PORT: '0', QUOTAS_ENABLED: 'false', HA_HOST_FAILURES_TO_TOLERATE: '0', WORKER_CONCURRENCY: '32' });
    for (let i = 0; i < 4; i++) {
      const bus = await connectBus({ url: natsServer.url, name: `replica-${i}`, logger });
      buses.push(bus);
      const c = createController({
        config,
        redis,
        bus,
        logger,
        registry: new Registry(),
        credentials: { getToken: async () => adminToken, endpoint: async (t) => (t === 'image' ? fakes[0].address : fakes[1].address) },
      });
      controllers.push(c);
      const grpc = await startGrpcServer({ port: 0, logger, services: c.services, verifier });
      servers.push(grpc);
      running.push(...c.runnables.map((r) => r.start(ac.signal)));
    }
    const registry = createServiceClient(agent.HostRegistryServiceService, servers[2].address, { token: () => adminToken });
    clients.push(registry);
    for (let h = 0; h < 10; h++) {
      const a = new AccountingAgent(`host-${h}`, buses[h % 4]);
      await a.start(registry);
      agents.push(a);
    }
    computeClients = servers.slice(2).map((s) => createServiceClient(compute.ComputeServiceService, s.address, { token: () => userToken, deadlineMs: 60_000 }));
    clients.push(...computeClients);
    const adminClient = createServiceClient(compute.ComputeServiceService, servers[2].address, { token: () => adminToken });
    clients.push(adminClient);
    await adminClient.createFlavor({ name: 'm1.unit', ...FLAVOR });
  });

  afterAll(async () => {
    ac.abort();
    await Promise.all(running);
    await Promise.all(controllers.map((c) => c.close()));
    await Promise.all(agents.map((a) => a.stop()));
    clients.forEach((c) => c.close());
    await Promise.all(servers.map((s) => s.shutdown(100)));
    await Promise.all(buses.map((b) => b.close()));
    await redis?.quit();
    await Promise.all([redisServer?.stop(), natsServer?.stop()]);
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
