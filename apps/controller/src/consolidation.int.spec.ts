import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { agent, compute, image, network } from '@minicloud/proto';
import { createTokenVerifier, expandRoles, generateSigningKey, RevocationList, signToken } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics, Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { agentConfigSchema } from '../../compute-agent/src/config';
import { wireComputeAgent, type AgentHandles } from '../../compute-agent/src/wire';
import { controllerConfigSchema } from './config';
import { createController, type Controller } from './wire';

jest.setTimeout(60_000);

const logger = silentLogger();
const partial = <T extends object>(impl: Partial<T>): T =>
  new Proxy(impl, { get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (async () => Promise.reject(new FailedPreconditionError(`fake: ${String(k)} not faked`))) }) as T;

/**
 * The DRS/DPM loop in-process with three real compute agents (wireComputeAgent, TIME_SCALE 1000:
 * the 300 s round runs every 300 ms) over real gRPC/Redis/NATS; network and image are fakes.
 * Policy thr-mmt-0.8, DPM keeps one host on.
 */
describe('consolidation loop (DRS/DPM) with three real agents', () => {
  let redisSrv: ServerHandle, natsSrv: ServerHandle, redis: Redis, bus: Bus;
  let controller: Controller;
  let grpc: RunningGrpcServer, fakeImage: RunningGrpcServer, fakeNetwork: RunningGrpcServer;
  const ac = new AbortController();
  const running: Promise<unknown>[] = [];
  const agentServers: RunningGrpcServer[] = [];
  const handles: Record<string, AgentHandles> = {};
  const ports = new Map<string, network.Port>();
  const bindings: { portId: string; hostId: string }[] = [];
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  let metricsRegistry: Registry;
  let member: ServiceClient<typeof compute.ComputeServiceService>;
  const closers: { close(): void }[] = [];

  beforeAll(async () => {
    [redisSrv, natsSrv] = await Promise.all([startRedisServer(), startNatsServer()]);
    redis = await connectRedis({ url: redisSrv.url, name: 'lm-test', logger });
    bus = await connectBus({ url: natsSrv.url, name: 'lm-test', logger });
    const key = await generateSigningKey(Date.now());
    const tok = async (userId: string, projectId: string, roles: string[]) =>
      (await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles: expandRoles(roles) }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
    const adminToken = await tok('minicloud', 'service', ['admin']);
    const memberToken = await tok('alice', 'service', ['member']);
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });

    fakeImage = await startGrpcServer({
      port: 0,
      logger,
      services: [
        {
          definition: image.ImageServiceService as never,
          handlers: partial<Record<string, unknown>>({
            getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'raw', sizeBytes: 1, osHashValue: '' } }),
          }),
        } as never,
      ],
    });
    let seq = 0;
    fakeNetwork = await startGrpcServer({
      port: 0,
      logger,
      services: [
        {
          definition: network.NetworkServiceService as never,
          handlers: partial<Record<string, unknown>>({
            getNetwork: async () => ({ network: { id: 'net-1', name: 'private', segmentationId: 1001, mtu: 1450 } }),
            createPort: async (req: network.CreatePortRequest) => {
              const n = ++seq;
              const port = network.Port.fromPartial({ id: `port-${n}`, networkId: req.networkId, deviceId: req.deviceId, deviceOwner: req.deviceOwner, macAddress: `fa:16:3e:00:00:0${n}`, fixedIps: [{ subnetId: 's', ipAddress: `10.0.0.${n}` }] });
              ports.set(port.id, port);
              return { port };
            },
            bindPort: async (req: network.BindPortRequest) => {
              const p = ports.get(req.portId);
              if (!p) throw new NotFoundError('port', req.portId);
              p.bindingHostId = req.hostId;
              bindings.push({ portId: req.portId, hostId: req.hostId });
              return { port: p };
            },
            listPorts: async (req: network.ListPortsRequest) => ({ ports: [...ports.values()].filter((p) => !req.deviceId || p.deviceId === req.deviceId) }),
            deletePort: async (req: network.DeletePortRequest) => (ports.delete(req.portId) ? {} : Promise.reject(new NotFoundError('port', req.portId))),
          }),
        } as never,
      ],
    });

    metricsRegistry = new Registry();
    const config = loadConfig(controllerConfigSchema, {
      GRPC_PORT: '0', QUOTAS_ENABLED: 'false', HA_HOST_FAILURES_TO_TOLERATE: '0', HOST_DOWN_AFTER_MS: '3000', LIVENESS_INTERVAL_MS: '200', RESYNC_INTERVAL_MS: '1000',
      CONSOLIDATION_ENABLED: 'true', CONSOLIDATION_POLICY: 'thr-mmt-0.8', TIME_SCALE: '1000', DPM_MIN_ACTIVE_HOSTS: '1',
    });
    controller = createController({
      config, redis, bus, logger, registry: metricsRegistry,
      credentials: { getToken: async () => adminToken, endpoint: async (t) => (t === 'image' ? fakeImage.address : fakeNetwork.address) },
    });
    grpc = await startGrpcServer({ port: 0, logger, services: controller.services, verifier });
    running.push(...controller.runnables.map((r) => r.start(ac.signal)));
    admin = createServiceClient(compute.ComputeServiceService, grpc.address, { token: () => adminToken });
    member = createServiceClient(compute.ComputeServiceService, grpc.address, { token: () => memberToken });
    const registry = createServiceClient(agent.HostRegistryServiceService, grpc.address, { token: () => adminToken });
    closers.push(admin, member, registry);

    for (const id of ['h1', 'h2', 'h3']) {
      const cfg = loadConfig(agentConfigSchema, { HOST_ID: id, AGENT_STATE_DIR: mkdtempSync(join(tmpdir(), 'lm-agent-')), BOOT_TIME_MS: '50', TIME_SCALE: '1000', HOST_PROFILE_INDEX: '0' });
      const wiring = await wireComputeAgent({ config: cfg, logger, metrics: createProcessMetrics({ service: 'compute-agent' }), redis, bus, revocations: new RevocationList() }, cfg, {
        vtep: null,
        imageSource: async function* () {
          yield Buffer.from('x');
        },
        registry: registry as never,
        migrationToken: async () => adminToken,
      });
      const server = await startGrpcServer({ port: 0, logger, services: wiring.services, verifier });
      await wiring.onListening?.(server);
      agentServers.push(server);
      handles[id] = wiring.handles;
      running.push(...(wiring.runnables ?? []).map((r) => r.start(ac.signal)));
    }
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 3, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
    // Over half of a host's RAM (std-2s32c-256g: 262,144 MB): two never share a host.
    await admin.createFlavor({ id: 'f-big', name: 'm1.big', vcpus: 1, ramMb: 150_000, diskGb: 1 });
  });

  afterAll(async () => {
    ac.abort();
    await Promise.all(running);
    await Promise.all(Object.values(handles).map((h) => h.migrations.settle()));
    await controller?.close();
    closers.forEach((c) => c.close());
    await Promise.all([grpc, fakeImage, fakeNetwork, ...agentServers].map((s) => s?.shutdown(200)));
    await bus?.close();
    await redis?.quit();
    await Promise.all([redisSrv?.stop(), natsSrv?.stop()]);
  });

  const hostsByState = async () => {
    const out: Record<string, string[]> = {};
    for (const h of (await admin.listHosts({})).hosts) (out[compute.HostState[h.state]] ??= []).push(h.id);
    return out;
  };
  const standbyIds = async () => (await hostsByState()).HOST_STATE_STANDBY ?? [];
  const agentHost = (id: string) => handles[id].hosts[0];
  async function boot(name: string, flavorRef: string, hints: Record<string, string> = {}): Promise<compute.Server> {
    const { servers } = await admin.createServer({ name, flavorRef, imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': 'idle' }, schedulerHints: hints });
    const id = servers[0].id;
    await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 15_000 });
    return (await admin.getServer({ serverId: id })).server!;
  }
  const metric = async (name: string) => {
    const text = await metricsRegistry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith(name));
    return lines.reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  };

  it('puts empty hosts in standby (0 W, not failed), wakes one when a boot finds no valid host, and consolidates VMs', async () => {
    // An empty cloud: DPM keeps one host on and powers the other two off.
    await waitFor(async () => (await standbyIds()).length === 2, { timeoutMs: 10_000 });
    const [s1, s2] = await standbyIds();
    // The agents power off once the hosts stayed unclaimed for the settle time.
    await waitFor(() => agentHost(s1).usage().standby && agentHost(s2).usage().standby, { timeoutMs: 10_000 });
    expect(agentHost(s1).usage()).toMatchObject({ standby: true, powerWatts: 0 });
    const on = ['h1', 'h2', 'h3'].find((h) => h !== s1 && h !== s2)!;
    expect(agentHost(on).usage().powerWatts).toBeGreaterThan(0);

    // The first big VM lands on the host that is on; the second finds no valid host until DPM wakes one.
    const big1 = await boot('big1', 'f-big');
    expect(big1.hostId).toBe(on);
    const big2 = await boot('big2', 'f-big');
    expect([s1, s2]).toContain(big2.hostId);
    expect(agentHost(big2.hostId).usage().standby).toBe(false);
    expect(await metric('minicloud_dpm_host_power_transitions_total{to="up"')).toBeGreaterThanOrEqual(1);

    // A small VM beside big2; once big2 is deleted the two hosts are both underloaded: DRS moves VMs
    // so one host holds everything, and DPM powers the emptied one off again.
    const small = await boot('small', 'f-small', { different_host: big1.id });
    expect(small.hostId).toBe(big2.hostId);
    await admin.deleteServer({ serverId: big2.id });
    await waitFor(async () => {
      const a = (await admin.getServer({ serverId: big1.id })).server!;
      const b = (await admin.getServer({ serverId: small.id })).server!;
      return a.hostId === b.hostId && a.status === 'ACTIVE' && b.status === 'ACTIVE' && a.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && b.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
    }, { timeoutMs: 30_000 });
    await waitFor(async () => (await standbyIds()).length === 2, { timeoutMs: 20_000 });
    const holder = (await admin.getServer({ serverId: big1.id })).server!.hostId;
    expect(await standbyIds()).not.toContain(holder);
    const done = [...(await admin.listMigrations({ serverId: big1.id })).migrations, ...(await admin.listMigrations({ serverId: small.id })).migrations];
    expect(done.filter((m) => m.status === 'completed').length).toBeGreaterThanOrEqual(1);
    expect(await metric('minicloud_consolidation_migrations_total{reason="underload"')).toBeGreaterThanOrEqual(1);
    // Standby hosts draw nothing; the cloud's power is the one active host's.
    await waitFor(async () => Math.abs((await metric('minicloud_cloud_power_watts')) - agentHost(holder).usage().powerWatts) < 1e-6, { timeoutMs: 10_000 });
    expect(await metric('minicloud_cloud_energy_joules_total')).toBeGreaterThan(0);
    // HA never saw them as failed.
    expect((await hostsByState()).HOST_STATE_FAILED).toBeUndefined();
  });
});
