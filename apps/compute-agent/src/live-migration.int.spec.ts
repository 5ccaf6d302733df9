import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, compute, events } from '@minicloud/proto';
import { createTokenVerifier, expandRoles, generateSigningKey, RevocationList, signToken } from '@minicloud/platform-auth';
import { connectBus, MIGRATION_PROGRESSED_WILDCARD, POWER_STATE_REPORTED_WILDCARD, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { agentConfigSchema } from './config';
import { wireComputeAgent, type AgentHandles } from './wire';

jest.setTimeout(60_000);

const RUNNING = compute.PowerState.POWER_STATE_RUNNING;

/** Two agents (hosts src, dst) in-process, a fake controller registry, TIME_SCALE 1000 (a simulated minute = 60 ms). */
describe('live migration between two agents (real gRPC stream, Redis, NATS)', () => {
  let redisSrv: ServerHandle, natsSrv: ServerHandle, redis: Redis, bus: Bus;
  const abort = new AbortController();
  const runnables: Promise<void>[] = [];
  const servers: Record<string, RunningGrpcServer> = {};
  const handles: Record<string, AgentHandles> = {};
  const clients: Record<string, ReturnType<typeof createServiceClient<typeof agent.HypervisorServiceService>>> = {};
  const epochs: Record<string, number> = { src: 3, dst: 8 };
  const reports: events.InstancePowerStateReported[] = [];
  const progress: compute.Migration[] = [];
  let adminToken = '';
  let memberToken = '';

  beforeAll(async () => {
    [redisSrv, natsSrv] = await Promise.all([startRedisServer(), startNatsServer()]);
    const logger = silentLogger();
    redis = await connectRedis({ url: redisSrv.url, name: 'test', logger });
    bus = await connectBus({ url: natsSrv.url, name: 'test', logger });
    const key = await generateSigningKey(Date.now());
    const tokenFor = async (roles: string[]) =>
      (await signToken(key, { userId: 'minicloud', userName: 'minicloud', projectId: 'service', projectName: 'service', domainId: 'default', roles: expandRoles(roles), ...(roles.includes('admin') ? { systemScope: 'all' as const } : {}) }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
    adminToken = await tokenFor(['admin']);
    memberToken = await tokenFor(['member']);
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
    await bus.consumeEvents({ durable: `lm-r-${Date.now()}`, filterSubject: POWER_STATE_REPORTED_WILDCARD, type: events.InstancePowerStateReported, deliverNew: true, handler: (ev) => void reports.push(ev) });
    await bus.consumeEvents({ durable: `lm-m-${Date.now()}`, filterSubject: MIGRATION_PROGRESSED_WILDCARD, type: events.MigrationProgressed, deliverNew: true, handler: (ev) => void progress.push(ev.migration!) });
    for (const id of ['src', 'dst']) {
      const config = loadConfig(agentConfigSchema, { HOST_ID: id, AGENT_STATE_DIR: mkdtempSync(join(tmpdir(), 'agent-')), BOOT_TIME_MS: '50', TIME_SCALE: '1000', HOST_PROFILE_INDEX: '0' });
      const wiring = await wireComputeAgent({ config, logger, metrics: createProcessMetrics({ service: 'compute-agent' }), redis, bus, revocations: new RevocationList() }, config, {
        vtep: null,
        imageSource: async function* () { yield Buffer.from('x'); },
        registry: { registerHost: async () => agent.RegisterHostResponse.fromPartial({ epoch: epochs[id], heartbeatIntervalMs: 200, leaseTtlMs: 3000, selfFenceAfterMs: 10_000 }) },
        migrationToken: async () => adminToken,
      });
      servers[id] = await startGrpcServer({ port: 0, logger, services: wiring.services, verifier });
      await wiring.onListening?.(servers[id]);
      handles[id] = wiring.handles;
      runnables.push(...(wiring.runnables ?? []).map((r) => r.start(abort.signal)));
      clients[id] = createServiceClient(agent.HypervisorServiceService, servers[id].address, { token: async () => adminToken });
    }
    await waitFor(() => handles.src.hosts[0].epoch === 3 && handles.dst.hosts[0].epoch === 8);
  });

  afterAll(async () => {
    abort.abort();
    await Promise.all(runnables);
    await Promise.all(Object.values(handles).map((h) => h.migrations.settle()));
    Object.values(clients).forEach((c) => c.close());
    await Promise.all(Object.values(servers).map((s) => s.shutdown(500)));
    await bus?.close();
    await redis?.quit();
    await Promise.all([redisSrv?.stop(), natsSrv?.stop()]);
  });

  const host = (id: string) => handles[id].hosts[0];
  const spec = (instanceId: string, workload: string, ramMb = 256) =>
    ({ instanceId, flavor: { vcpus: 1, ramMb, diskGb: 1 }, image: { imageId: 'img', sha256: '' }, metadata: { 'minicloud:workload': workload } });

  /** Spawns on src, waits until running, then the controller's sequence: prepare on dst, migrate_out on src. */
  async function startMigration(id: string, workload: string, out: Partial<agent.MigrateOutCommand>): Promise<string> {
    await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: id, spawn: { spec: spec(id, workload) } });
    await waitFor(() => host('src').runtime(id)?.powerState === 'running');
    host('src').tick();
    const migrationId = `mig-${id}`;
    await clients.dst.executeCommand({ hostId: 'dst', epoch: 8, instanceId: id, prepareMigrateIn: { migrationId, spec: spec(id, workload) } });
    expect(host('dst').runtime(id)?.powerState).toBe('paused'); // incoming, reserved, not running
    await clients.src.executeCommand({
      hostId: 'src', epoch: 3, instanceId: id,
      migrateOut: { migrationId, destHostId: 'dst', destEndpoint: servers.dst.address, destEpoch: 8, ...out },
    });
    return migrationId;
  }
  const last = (migrationId: string) => progress.filter((p) => p.id === migrationId).at(-1);
  const ended = (migrationId: string) => ['completed', 'failed', 'cancelled', 'error'].includes(last(migrationId)?.status ?? '');

  it('migrates a running VM: it ends running on the destination only; events, record and reports are right', async () => {
    const mid = await startMigration('vm-a', 'constant:0.2', {}); // 21 MiB/s dirty, 128 MiB/s QEMU default bandwidth
    await waitFor(() => ended(mid), { timeoutMs: 20_000 });
    const rec = last(mid)!;
    expect(rec).toMatchObject({ status: 'completed', instanceId: 'vm-a', sourceHostId: 'src', destHostId: 'dst', migrationType: 'live-migration', remainingBytes: 0 });
    expect(rec.rounds).toBeGreaterThanOrEqual(2);
    expect(Number(rec.transferredBytes)).toBeGreaterThan(256 * 2 ** 20);
    expect(Number(rec.downtimeMs)).toBeLessThanOrEqual(300);
    expect(Number(rec.totalTimeMs)).toBeGreaterThanOrEqual(2000); // 256 MiB at 128 MiB/s is 2 s for round 0 alone
    const statuses = progress.filter((p) => p.id === mid).map((p) => p.status);
    expect(statuses.filter((s) => s === 'running').length).toBeGreaterThanOrEqual(2); // one per round
    expect(host('src').runtime('vm-a')).toBeUndefined();
    expect(host('dst').runtime('vm-a')?.powerState).toBe('running');
    expect(host('dst').runningIds()).toContain('vm-a');
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-a' && r.reason === 'migrated_out'));
    expect(reports.find((r) => r.instanceId === 'vm-a' && r.reason === 'migrated_in')).toMatchObject({ hostId: 'dst', epoch: 8, powerState: RUNNING });
    expect(reports.find((r) => r.instanceId === 'vm-a' && r.reason === 'migrated_out')).toMatchObject({ hostId: 'src', epoch: 3 });
  });

  it('a VM dirtying faster than the bandwidth times out without auto-converge (stays on the source), and converges with it', async () => {
    // constant:1.0 dirties 100 MiB/s; 400 Mbit/s = 47.7 MiB/s.
    const a = await startMigration('vm-b', 'constant:1.0', { maxBandwidthMbps: 400, timeoutSeconds: 60 });
    await waitFor(() => ended(a), { timeoutMs: 20_000 });
    expect(last(a)).toMatchObject({ status: 'failed', cpuThrottlePercentage: 0 });
    expect(last(a)!.error).toMatch(/timeout/);
    expect(host('src').runtime('vm-b')?.powerState).toBe('running');
    await waitFor(() => host('dst').runtime('vm-b') === undefined);
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-b' && r.hostId === 'dst' && r.reason === 'migration_aborted'));

    const mid = 'mig-vm-b-2';
    await clients.dst.executeCommand({ hostId: 'dst', epoch: 8, instanceId: 'vm-b', prepareMigrateIn: { migrationId: mid, spec: spec('vm-b', 'constant:1.0') } });
    await clients.src.executeCommand({
      hostId: 'src', epoch: 3, instanceId: 'vm-b',
      migrateOut: { migrationId: mid, destHostId: 'dst', destEndpoint: servers.dst.address, destEpoch: 8, maxBandwidthMbps: 400, autoConverge: true, timeoutSeconds: 3600 },
    });
    await waitFor(() => ended(mid), { timeoutMs: 20_000 });
    expect(last(mid)!.status).toBe('completed');
    expect(last(mid)!.cpuThrottlePercentage).toBeGreaterThan(50);
    expect(Number(last(mid)!.downtimeMs)).toBeLessThanOrEqual(300);
    expect(host('src').runtime('vm-b')).toBeUndefined();
    expect(host('dst').runtime('vm-b')?.powerState).toBe('running');
  });

  it('post-copy: a non-converging VM resumes on the destination after one round, then its pages are pulled', async () => {
    const mid = await startMigration('vm-p', 'constant:1.0', { maxBandwidthMbps: 400, postCopy: true, timeoutSeconds: 3600 });
    await waitFor(() => ended(mid), { timeoutMs: 20_000 });
    const statuses = progress.filter((p) => p.id === mid).map((p) => p.status);
    expect(statuses).toContain('post-migrating');
    expect(last(mid)).toMatchObject({ status: 'completed', rounds: 1, postCopy: true, downtimeMs: 0 });
    expect(host('src').runtime('vm-p')).toBeUndefined();
    expect(host('dst').runtime('vm-p')?.powerState).toBe('running');
  });

  it('Migrate is admin-only: no token -> UNAUTHENTICATED, a member token -> PERMISSION_DENIED; a stale dest epoch is refused', async () => {
    const call = async (token?: string, destEpoch = 8) => {
      const c = createServiceClient(agent.MigrationServiceService, servers.dst.address, { token: async () => token });
      try {
        for await (const r of c.migrate((async function* () { yield { begin: { migrationId: 'x', destHostId: 'dst', destEpoch, spec: { instanceId: 'none' } } }; })())) return r;
      } finally {
        c.close();
      }
    };
    await expect(call()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(call(memberToken)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(call(adminToken, 7)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'stale_epoch' });
    await expect(call(adminToken)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'not_prepared' });
  });

  it('fault tolerance: initial copy, checkpoints acknowledged by the standby copy, promotion without reboot, the old primary stops', async () => {
    await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-ft', spawn: { spec: spec('vm-ft', 'constant:0.2') } });
    await waitFor(() => host('src').runtime('vm-ft')?.powerState === 'running');
    host('src').tick();
    const launchedAt = host('src').runtime('vm-ft')!.launchedAtMs;
    const sec = await clients.dst.executeCommand({ hostId: 'dst', epoch: 8, instanceId: 'vm-ft', ftPrepareSecondary: { ftGeneration: 1, spec: spec('vm-ft', 'constant:0.2') } });
    expect(sec.instance).toMatchObject({ powerState: compute.PowerState.POWER_STATE_PAUSED, ftRole: 'secondary', migrating: true });
    const start = { ftGeneration: 1, secondaryHostId: 'dst', secondaryEndpoint: servers.dst.address, secondaryEpoch: 8, epochMs: 1000 };
    await expect(clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-ft', ftStartPrimary: { ...start, secondaryEndpoint: '' } })).rejects.toMatchObject({ field: 'ft_start_primary.secondary_endpoint' });
    const prim = await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-ft', ftStartPrimary: start });
    expect(prim.instance).toMatchObject({ ftRole: 'primary', ftGeneration: 1 });
    expect(Number(prim.instance!.ftAckedCheckpoint)).toBeGreaterThanOrEqual(1);
    const ft = handles.src.ft;
    await waitFor(() => ft.roleOf(host('src'), 'vm-ft').ackedCheckpoint >= 5);
    expect(handles.dst.ft.roleOf(host('dst'), 'vm-ft')).toMatchObject({ role: 'secondary', generation: 1 });
    expect(reports.filter((r) => r.instanceId === 'vm-ft' && r.hostId === 'dst')).toEqual([]);
    // Failover (the controller's compare-and-set gave it generation 2): live from the checkpoint, same launch time.
    const live = await clients.dst.executeCommand({ hostId: 'dst', epoch: 8, instanceId: 'vm-ft', ftPromote: { ftGeneration: 2 } });
    expect(live.instance).toMatchObject({ powerState: RUNNING, ftRole: '', migrating: false });
    expect(host('dst').runtime('vm-ft')!.launchedAtMs).toBe(launchedAt);
    await waitFor(() => reports.some((r) => r.instanceId === 'vm-ft' && r.hostId === 'dst' && r.reason === 'ft_failover' && r.powerState === RUNNING));
    // The promoted copy acknowledges nothing more: the old primary stops checkpointing (its output stays held).
    const acked = ft.roleOf(host('src'), 'vm-ft').ackedCheckpoint;
    await new Promise((r) => setTimeout(r, 100));
    expect(ft.roleOf(host('src'), 'vm-ft')).toMatchObject({ role: 'primary', ackedCheckpoint: acked });
    // ... and says so to the controller, which holds the generation.
    await waitFor(async () => (await clients.src.listInstances({ hostId: 'src' })).instances.find((i) => i.instanceId === 'vm-ft')?.ftStreamLost === true);
    await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-ft', ftStop: { ftGeneration: 2 } });
    expect(ft.roleOf(host('src'), 'vm-ft').role).toBe('');
    await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-ft', destroy: {} });
    await clients.dst.executeCommand({ hostId: 'dst', epoch: 8, instanceId: 'vm-ft', destroy: {} });
  });

  it('killing the destination\'s gRPC server midway leaves the VM running on the source only', async () => {
    // 1 GiB at 40 Mbit/s: round 0 alone is ~215 s simulated (~215 ms wall), idle guest.
    await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-c', spawn: { spec: spec('vm-c', 'idle', 1024) } });
    await waitFor(() => host('src').runtime('vm-c')?.powerState === 'running');
    const mid = 'mig-vm-c';
    await clients.dst.executeCommand({ hostId: 'dst', epoch: 8, instanceId: 'vm-c', prepareMigrateIn: { migrationId: mid, spec: spec('vm-c', 'idle', 1024) } });
    await clients.src.executeCommand({ hostId: 'src', epoch: 3, instanceId: 'vm-c', migrateOut: { migrationId: mid, destHostId: 'dst', destEndpoint: servers.dst.address, destEpoch: 8, maxBandwidthMbps: 40 } });
    await waitFor(() => last(mid)?.status === 'running');
    await servers.dst.shutdown(0);
    await waitFor(() => ended(mid), { timeoutMs: 20_000 });
    expect(last(mid)).toMatchObject({ status: 'failed' });
    expect(host('src').runtime('vm-c')?.powerState).toBe('running');
    expect(host('src').runningIds()).toContain('vm-c');
    await waitFor(() => host('dst').runtime('vm-c') === undefined);
    expect(host('dst').runningIds()).not.toContain('vm-c');
  });
});
