import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
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
 * Controller in-process with two real compute agents (wireComputeAgent, TIME_SCALE 1000) over real
 * gRPC/Redis/NATS; network and image are fakes recording port bindings. Migration limits: 400 Mbit/s,
 * no auto-converge, 60 s timeout, so an idle VM converges and a constant:1.0 VM (100 MiB/s dirty) times out.
 */
describe('live migration, controller side (two real agents)', () => {
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

    const config = loadConfig(controllerConfigSchema, {
      GRPC_PORT: '0', QUOTAS_ENABLED: 'false', HA_HOST_FAILURES_TO_TOLERATE: '0', HOST_DOWN_AFTER_MS: '3000', LIVENESS_INTERVAL_MS: '200', RESYNC_INTERVAL_MS: '1000',
      MIGRATION_MAX_BANDWIDTH_MBPS: '400', MIGRATION_AUTO_CONVERGE: 'false', MIGRATION_TIMEOUT_SECONDS: '60',
    });
    controller = createController({
      config, redis, bus, logger, registry: new Registry(),
      credentials: { getToken: async () => adminToken, endpoint: async (t) => (t === 'image' ? fakeImage.address : fakeNetwork.address) },
    });
    grpc = await startGrpcServer({ port: 0, logger, services: controller.services, verifier });
    running.push(...controller.runnables.map((r) => r.start(ac.signal)));
    admin = createServiceClient(compute.ComputeServiceService, grpc.address, { token: () => adminToken });
    member = createServiceClient(compute.ComputeServiceService, grpc.address, { token: () => memberToken });
    const registry = createServiceClient(agent.HostRegistryServiceService, grpc.address, { token: () => adminToken });
    closers.push(admin, member, registry);

    for (const id of ['src', 'dst']) {
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
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 });
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
