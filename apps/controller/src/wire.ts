import { randomUUID } from 'node:crypto';
import { defaultScheduler } from '@minicloud/domain-scheduler';
import type { Bus } from '@minicloud/platform-bus';
import type { ServiceRegistration } from '@minicloud/platform-grpc';
import { KeyedWorkQueue, LeaderElector, leaderOnly, periodic, type LeaderFence, type Runnable } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import type { Registry } from '@minicloud/platform-metrics';
import type { Redis } from '@minicloud/platform-state';
import { AgentClient } from './agent/agent-client';
import { migrationProgressConsumer, powerReportConsumer } from './agent/power-report-consumer';
import { computeService } from './api/compute-service';
import { hostRegistryService } from './agent/host-registry-service';
import type { ControllerConfig } from './config';
import { createControllerMetrics } from './metrics';
import { Peers, type PeerCredentials } from './peers';
import { AllocationStore } from './store/allocation-store';
import { FlavorStore } from './store/flavor-store';
import { HostStore } from './store/host-store';
import { InstanceStore } from './store/instance-store';
import { Keys } from './store/keys';
import { Conductor } from './build/conductor';
import { HostMonitor } from './agent/host-monitor';
import { AdmissionGuard } from './placement/admission-guard';
import { HaManager } from './ha/ha-manager';
import { FtManager } from './ft/ft-manager';
import { ServerGroupStore } from './store/server-group-store';
import { KeypairStore } from './store/keypair-store';
import { AggregateStore } from './store/aggregate-store';
import { Quotas } from './placement/quota';
import { Placement } from './placement/placement';
import { MigrationStore } from './store/migration-store';
import { MigrationWorker } from './migration/migration-worker';
import { HostStateCache } from './placement/host-state-cache';
import { parsePolicyName } from '@minicloud/domain-consolidation';
import { ConsolidationLoop } from './consolidation/consolidation-loop';
import { PowerSync } from './agent/power-sync';
import { metadataServer } from './metadata/metadata-server';

export { MIGRATION_PROGRESS_CONSUMER, POWER_REPORT_CONSUMER } from './agent/power-report-consumer';

export interface ControllerInputs {
  config: ControllerConfig;
  redis: Redis;
  bus: Bus;
  logger: Logger;
  registry: Registry;
  credentials: PeerCredentials;
  nowMs?: () => number;
  /** Random source for the scheduler's subset pick (default Math.random). */
  rng?: () => number;
}

export interface Controller {
  services: ServiceRegistration[];
  runnables: Runnable[];
  /** Run after the runnables stopped. */
  close(): Promise<void>;
  stores: { flavors: FlavorStore; hosts: HostStore; instances: InstanceStore; allocations: AllocationStore; aggregates: AggregateStore; serverGroups: ServerGroupStore };
  queue: KeyedWorkQueue;
}

/**
 * Builds the controller from its adapters (the part main.ts and integration tests share): stores,
 * the agent command client, scheduler + placement (every replica schedules the requests it receives;
 * claims are atomic Lua, so replicas cannot overbook), conductor and its work queue, heartbeat
 * monitor, the power-report and migration-progress consumers, leader-only loops (host liveness and
 * HA, consolidation, resync of instances stuck in a task_state) and both gRPC services.
 */
export function createController(inp: ControllerInputs): Controller {
  const { config, redis, bus, logger } = inp;
  const nowMs = inp.nowMs ?? (() => Date.now());
  // Every leader loop's writes carry this fence: the leader lease and this replica's fencing token,
  // checked in the same Lua script as the write. The elector is made below; the token is read at
  // each write, long after wiring.
  const leaderFence: LeaderFence = { key: Keys.leader(), token: () => elector.fencingToken() };
  const flavors = new FlavorStore(redis);
  const hosts = new HostStore(redis);
  const instances = new InstanceStore(redis, { clientTokenLeaseSeconds: config.CLIENT_TOKEN_LEASE_SECONDS });
  const allocations = new AllocationStore(redis);
  const aggregates = new AggregateStore(redis, nowMs);
  const serverGroups = new ServerGroupStore(redis);
  // Capacity gauges read the scheduler's HostState (placement is created below; read at scrape time).
  const metrics = createControllerMetrics(inp.registry, { instances, hosts, hostStates: () => placement.hostStates() });
  const peers = new Peers(inp.credentials, { agentDeadlineMs: config.AGENT_DEADLINE_MS });
  const agents = new AgentClient({ hosts, transport: (endpoint) => peers.agent(endpoint), shutdownTimeoutSeconds: 60 });
  const monitor = new HostMonitor({
    hosts,
    bus,
    logger,
    nowMs,
    downAfterMs: config.HOST_DOWN_AFTER_MS,
    redis,
    leaseTtlMs: config.LEASE_TTL_MS,
    suspectAfterMs: config.HOST_SUSPECT_AFTER_MS,
    newHostGraceMs: config.NEW_HOST_GRACE_MS,
  });
  // The scheduler's HostManager: this replica's own writes mark what they changed; a full reload
  // every HOST_STATE_RESYNC_MS catches the other replicas'.
  const hostStateCache = new HostStateCache({ hosts, allocations, aggregates, nowMs, resyncMs: config.HOST_STATE_RESYNC_MS });
  allocations.onChange = (hostId) => hostStateCache.markAllocationsChanged(hostId);
  hosts.onChange = () => hostStateCache.markRecordsChanged();
  aggregates.onChange = () => hostStateCache.markRecordsChanged();
  const placement = new Placement({
    hosts,
    allocations,
    cache: hostStateCache,
    aggregates,
    scheduler: defaultScheduler({ rng: inp.rng ?? Math.random, hostSubsetSize: config.SCHEDULER_HOST_SUBSET_SIZE }),
    logger,
    downAfterMs: config.HOST_DOWN_AFTER_MS,
    rounds: config.SCHEDULER_CLAIM_ROUNDS,
    nowMs,
    lastHeartbeatAtMs: (id) => monitor.lastHeartbeatAtMs(id),
    latestUsage: (id) => monitor.latestUsage(id),
  });
  const quotas = new Quotas(peers, config.QUOTAS_ENABLED);
  const conductor = new Conductor({
    instances,
    hosts,
    allocations,
    serverGroups,
    quotas,
    peers,
    agents,
    bus,
    metrics,
    logger,
    nowMs,
    taskTimeoutMs: config.RESYNC_STUCK_AFTER_MS * 4,
    placement,
    maxBuildAttempts: config.SCHEDULER_MAX_ATTEMPTS,
  });
  const migrationRecords = new MigrationStore(redis);
  const migrations = new MigrationWorker({
    instances,
    hosts,
    allocations,
    placement,
    migrations: migrationRecords,
    serverGroups,
    peers,
    agents,
    logger,
    nowMs,
    maxAttempts: config.SCHEDULER_MAX_ATTEMPTS,
    limits: { maxBandwidthMbps: config.MIGRATION_MAX_BANDWIDTH_MBPS, maxDowntimeMs: config.MIGRATION_MAX_DOWNTIME_MS, autoConverge: config.MIGRATION_AUTO_CONVERGE, timeoutSeconds: config.MIGRATION_TIMEOUT_SECONDS, permitPostCopy: config.MIGRATION_PERMIT_POST_COPY, timeoutAction: config.MIGRATION_TIMEOUT_ACTION },
    transition: (id, mutate, fence) => conductor.transition(id, mutate, fence),
    leaderFence,
    instanceSpec: (r) => conductor.instanceSpec(r),
    prepareVolumes: (r) => conductor.prepareVolumes(r),
  });
  conductor.onMigrationReport = (ev, r) => migrations.onPowerReport(ev, r);
  const queue = new KeyedWorkQueue('instance-worker', (id) => conductor.reconcile(id), { concurrency: config.WORKER_CONCURRENCY, logger, idField: 'instance_id', registry: inp.registry });
  const admission = new AdmissionGuard({ placement, hostFailuresToTolerate: config.HA_HOST_FAILURES_TO_TOLERATE });
  const ft = new FtManager({
    instances, allocations, serverGroups, placement, agents, peers, logger, registry: inp.registry, nowMs, leaderFence, epochMs: config.FT_EPOCH_MS,
    transition: (id, mutate, fence) => conductor.transition(id, mutate, fence),
    instanceSpec: (r) => conductor.instanceSpec(r),
  });
  const ha = new HaManager({
    ft,
    redis,
    hosts,
    instances,
    allocations,
    serverGroups,
    placement,
    monitor,
    agents,
    logger,
    registry: inp.registry,
    nowMs,
    enqueue: (id) => queue.enqueue(id),
    leaderFence,
    transition: (id, mutate, fence) => conductor.transition(id, mutate, fence),
    selfFenceAfterMs: config.SELF_FENCE_AFTER_MS,
    restartsPerZonePerSecond: config.HA_RESTARTS_PER_ZONE_PER_SECOND,
    restartBurst: config.HA_RESTART_BURST,
    enabled: config.HA_ENABLED,
  });
  const powerSync = new PowerSync({
    hosts, instances, migrations: migrationRecords, redis, monitor, agents, logger, registry: inp.registry, nowMs, leaderFence,
    transition: (id, mutate, fence) => conductor.transition(id, mutate, fence),
    enqueue: (id) => queue.enqueue(id),
    resumeGuestsStateOnHostBoot: config.RESUME_GUESTS_STATE_ON_HOST_BOOT,
  });
  // DRS/DPM: leader-only (one planner, so no two replicas move the same VM); its DPM also answers the scheduler's NoValidHost with a wake.
  let consolidation: ConsolidationLoop | undefined;
  if (config.CONSOLIDATION_ENABLED) {
    const policy = parsePolicyName(config.CONSOLIDATION_POLICY);
    if (policy.kind !== 'migration') throw new Error(`CONSOLIDATION_POLICY must name a migration policy, got ${config.CONSOLIDATION_POLICY}`);
    consolidation = new ConsolidationLoop({
      redis, hosts, instances, allocations, serverGroups, migrationRecords, migrations, placement, monitor, agents, logger, registry: inp.registry, nowMs,
      policy, maxConcurrentMigrations: config.CONSOLIDATION_MAX_CONCURRENT_MIGRATIONS, dpm: config.DPM_ENABLED, minActiveHosts: config.DPM_MIN_ACTIVE_HOSTS,
      wakeGraceMs: Math.max(2 * config.CONSOLIDATION_INTERVAL_MS / config.TIME_SCALE, 5000),
      standbySettleMs: Math.max(config.CONSOLIDATION_INTERVAL_MS / config.TIME_SCALE, 2000),
      leaderFence,
    });
    if (config.DPM_ENABLED) placement.onNoValidHost = () => consolidation!.wakeForCapacity();
  }
  // holderId names the process so chaos drills can find the leader's pid (`minicloud chaos kill-controller`).
  const elector = new LeaderElector(redis, { key: Keys.leader(), ttlMs: config.LEADER_TTL_MS, logger, holderId: `pid-${process.pid}-${randomUUID()}` });
  const onError = (name: string) => (e: unknown) => logger.warn({ err: e instanceof Error ? e.message : e, loop: name }, 'loop tick failed');

  let firstResync = true;
  const resync = async () => {
    const now = nowMs();
    for (const r of await instances.list()) {
      const busy = r.taskState !== null || r.pendingCleanup;
      if (busy && (firstResync || now - r.updatedAtMs > config.RESYNC_STUCK_AFTER_MS)) queue.enqueue(r.id);
    }
    firstResync = false;
  };

  const metadata = metadataRunnable(config, instances, peers, logger);

  const heartbeats: Runnable = {
    name: 'heartbeat-subscription',
    async start(signal) {
      const unsubscribe = monitor.subscribe();
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
      unsubscribe();
    },
  };
  return {
    services: [
      computeService({ flavors, instances, hosts, allocations, placement, queue, peers, agents, metrics, transition: (id, mutate) => conductor.transition(id, mutate), publishState: (r, old) => conductor.publish(r, old), nowMs, admission, aggregates, serverGroups, keypairs: new KeypairStore(redis), keyPairsQuota: config.KEY_PAIRS_QUOTA, quotas, allowResizeToSameHost: config.ALLOW_RESIZE_TO_SAME_HOST, migrations, migrationRecords, evacuations: { redis, hosts, instances, nowMs } }),
      hostRegistryService({ config, hosts, instances, monitor, powerSync, bus, nowMs }),
    ],
    runnables: [
      queue,
      powerSync.queue,
      leaderOnly(elector, periodic('power-sync', config.POWER_SYNC_INTERVAL_MS, (signal) => powerSync.checkReports(signal), onError('power-sync'))),
      heartbeats,
      ...metadata,
      powerReportConsumer(bus, (ev) => conductor.handlePowerReport(ev), {
        concurrency: config.WORKER_CONCURRENCY,
        onForged: (ev, subject) => logger.warn({ subject, host_id: ev.hostId, instance_id: ev.instanceId }, 'power report naming another host than its subject dropped'),
      }),
      migrationProgressConsumer(bus, (m) => migrations.onProgress(m), {
        onForged: (ev, subject) => logger.warn({ subject, source_host_id: ev.migration?.sourceHostId, migration_id: ev.migration?.id }, 'migration progress naming another source host than its subject dropped'),
      }),
      leaderOnly(elector, periodic('migration-watch', config.LIVENESS_INTERVAL_MS, (signal) => migrations.watch(signal), onError('migration-watch'))),
      periodic('heartbeat-flush', config.LIVENESS_INTERVAL_MS, () => monitor.flush(), onError('heartbeat-flush')),
      elector,
      leaderOnly(elector, periodic('host-liveness', config.LIVENESS_INTERVAL_MS, (signal) => ha.tick(signal), onError('host-liveness'))),
      // Attachments left `attaching` by a controller that died midway: completed or rolled back, so no volume stays reserved by a half-done attach.
      leaderOnly(elector, periodic('volume-attaching-resync', config.RESYNC_INTERVAL_MS, async (signal) => void (await conductor.volumes.resyncAttaching(signal)), onError('volume-attaching-resync'))),
      ...(consolidation
        ? [leaderOnly(elector, periodic('consolidation', Math.max(50, config.CONSOLIDATION_INTERVAL_MS / config.TIME_SCALE), (signal) => consolidation!.tick(signal).then(() => undefined), onError('consolidation')))]
        : []),
      leaderOnly(
        elector,
        periodic(
          'instance-resync',
          config.RESYNC_INTERVAL_MS,
          async () => {
            await resync();
          },
          onError('instance-resync'),
        ),
      ),
    ],
    async close() {
      peers.close();
    },
    stores: { flavors, hosts, instances, allocations, aggregates, serverGroups },
    queue,
  };
}

/**
 * The metadata API listener when METADATA_PORT is set (every replica serves it: it only reads
 * instance records). vendor_data2.json's identity credential comes from identity's
 * IssueInstanceCredential with the controller's service token.
 * @throws Error when METADATA_PORT is set without METADATA_PROXY_SHARED_SECRET
 */
function metadataRunnable(config: ControllerConfig, instances: InstanceStore, peers: Peers, logger: Logger): Runnable[] {
  if (config.METADATA_PORT === undefined) return [];
  const secret = config.METADATA_PROXY_SHARED_SECRET;
  if (!secret) throw new Error('METADATA_PORT needs METADATA_PROXY_SHARED_SECRET');
  const issueCredential = async (instanceId: string, projectId: string) => {
    const res = await (await peers.identity()).issueInstanceCredential({ instanceId, projectId, ttlSeconds: config.METADATA_CREDENTIAL_TTL_SECONDS });
    const doc = res.document;
    return {
      token: res.token,
      identity_document: doc && {
        instance_id: doc.instanceId, project_id: doc.projectId, host_id: doc.hostId, availability_zone: doc.availabilityZone,
        image_id: doc.imageId, flavor_name: doc.flavorName, issued_at: doc.issuedAt?.toISOString(), signature: doc.signature,
      },
    };
  };
  return [metadataServer({ instances, sharedSecret: secret, issueCredential, logger }, { host: config.METADATA_HOST, port: config.METADATA_PORT, onListening: (url) => logger.info({ url }, 'metadata API listening') })];
}
