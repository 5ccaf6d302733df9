import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, image, network } from '@minicloud/proto';
import type { Clock } from '@minicloud/domain-clock';
import { DEFAULT_BOOT_MODEL, DEFAULT_HOST_MODEL_CONFIG, ImageCache, pickProfile, profileByName, type HostProfile } from '@minicloud/domain-hypervisor';
import { createServiceClient, failoverClient } from '@minicloud/platform-grpc';
import { scaledClock, systemClock } from '@minicloud/platform-lifecycle';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import { registerAgentMetrics, registerModelTickMetrics } from './agent-metrics';
import { hypervisorService } from './api/hypervisor-service';
import { migrationService } from './api/migration-service';
import { LiveMigrations, type MigrationClient } from './migration/live-migrations';
import { registerMigrationMetrics } from './migration/migration-metrics';
import { FaultTolerance } from './ft/fault-tolerance';
import { registerFtMetrics } from './ft/ft-metrics';
import { createMigrationPublisher } from './migration/migration-publisher';
import type { AgentConfig } from './config';
import { UnavailableError } from '@minicloud/domain-errors';
import { HostAgent, type HostRegistryClient, type VtepClient } from './host-agent';
import { ImageStore, type ImageSource } from './image-store';
import { modelTicker, modelTickIntervalMs } from './model-ticker';
import { createPowerReporter } from './power-reporter';
import { SimulatedHost } from './simulated-host';
import { GuestConsoles } from './guest/guest-consoles';
import { metadataReader, type MetadataReader } from './guest/metadata-client';
import { OverlayAgent } from './overlay';
import { GuestSshServers, newGuestHostKeys } from './guest/guest-ssh';

/** Replacements for tests (fake controller / image service / clock). */
export interface AgentOverrides {
  clock?: Clock;
  imageSource?: ImageSource;
  registry?: HostRegistryClient;
  /** null: no network service (VTEP skipped). */
  vtep?: VtepClient | null;
  verifier?: ServiceWiring['verifier'];
  /** Token the source sends on MigrationService streams (default: the service credentials' token). */
  migrationToken?: () => Promise<string | undefined>;
  /** The guests' metadata source (default: the metadata API at METADATA_URL when configured). */
  metadata?: MetadataReader;
}

/** Everything wiring made, for tests. */
export interface AgentHandles {
  hosts: SimulatedHost[];
  agents: HostAgent[];
  /** Per-host overlay modules (vswitch/VTEP/FDB, packet tracer); empty without a network service. */
  overlays: OverlayAgent[];
  /** Live migrations of the rack's hosts (both sides). */
  migrations: LiveMigrations;
  /** Fault tolerance (checkpoint streams, standby copies) of the rack's hosts. */
  ft: FaultTolerance;
  /** Per-host guest sshd listeners on the floating IPs of running VMs; empty when GUEST_SSH is off. */
  guestSsh: GuestSshServers[];
  flushReports: () => Promise<void>;
}

/** Host ids of the rack: HOST_ID for one host, `<HOST_ID>-<i>` for several. */
export function hostIdsOf(config: Pick<AgentConfig, 'HOST_ID' | 'AGENT_HOSTS'>): string[] {
  const base = config.HOST_ID ?? `host-${hostname()}-${process.pid}`;
  return config.AGENT_HOSTS === 1 ? [base] : Array.from({ length: config.AGENT_HOSTS }, (_, i) => `${base}-${i}`);
}

/**
 * Wires the compute agent: AGENT_HOSTS simulated hosts, their HostAgents (registration, heartbeat,
 * lease, VTEP/FDB), the HypervisorService and the metrics. VMs live in memory only: the process is
 * the host, so its VMs die with it; on restart the hosts register afresh holding no instances.
 */
export async function wireComputeAgent(deps: ServiceDeps, config: AgentConfig, o: AgentOverrides = {}): Promise<ServiceWiring & { handles: AgentHandles }> {
  const clock = o.clock ?? (config.TIME_SCALE === 1 ? systemClock : scaledClock(config.TIME_SCALE));
  const token = async () => deps.credentials?.getToken();
  const lazy = <T>(make: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => (p ??= make().catch((e) => ((p = undefined), Promise.reject(e))));
  };
  const imageClient = lazy(async () =>
    createServiceClient(image.ImageServiceService, await deps.credentials!.endpoint('image'), { token, deadlineMs: 600_000 }),
  );
  const imageSource: ImageSource =
    o.imageSource ??
    async function* (imageId) {
      for await (const m of (await imageClient()).downloadImage({ imageId })) yield m.chunk;
    };
  const registry = o.registry
    ? async () => o.registry!
    : config.CONTROLLER_URL
      ? lazy(async () => createServiceClient(agent.HostRegistryServiceService, config.CONTROLLER_URL!, { token, idempotent: ['registerHost'] }))
      : lazy(async () => failoverRegistry((url) => createServiceClient(agent.HostRegistryServiceService, url, { token, idempotent: ['registerHost'] }), () => deps.credentials!.endpoints('compute')));
  const vtep: (() => Promise<VtepClient>) | undefined =
    o.vtep === null
      ? undefined
      : o.vtep
        ? async () => o.vtep!
        : deps.credentials
          ? lazy(async () => createServiceClient(network.NetworkServiceService, await deps.credentials!.endpoint('network'), { token }))
          : undefined;

  const reporter = createPowerReporter(deps.bus, deps.logger);
  const metadata = o.metadata ?? (config.METADATA_URL && config.METADATA_PROXY_SHARED_SECRET ? metadataReader(config.METADATA_URL, config.METADATA_PROXY_SHARED_SECRET) : undefined);
  const ids = hostIdsOf(config);
  const rackId = config.HOST_ID ?? ids[0];
  const stateDir = config.AGENT_STATE_DIR ?? join(tmpdir(), 'minicloud', 'agent');
  const agents: HostAgent[] = [];
  const overlays: OverlayAgent[] = [];
  const guestSsh: GuestSshServers[] = [];
  const hosts: SimulatedHost[] = [];
  const byId = new Map<string, SimulatedHost>();
  let endpoint = '';
  let histogram: ReturnType<typeof registerAgentMetrics> | undefined;
  const extra = { hostname: hostname(), availabilityZone: config.AVAILABILITY_ZONE, rackId };
  const modelConfig = { ...DEFAULT_HOST_MODEL_CONFIG, memory: { ...DEFAULT_HOST_MODEL_CONFIG.memory, shareRatio: config.MEMORY_SHARE_RATIO } };

  ids.forEach((hostId, i) => {
    // HOST_PROFILE may list several catalog names ("a,b"): the rack's hosts rotate through them.
    const names = (config.HOST_PROFILE ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    const profile: HostProfile = names.length > 0 ? profileByName(names[i % names.length], hostId) : pickProfile(config.HOST_PROFILE_INDEX + i, hostId);
    const images = new ImageStore(join(stateDir, hostId), new ImageCache(config.IMAGE_CACHE_MB * 2 ** 20), imageSource);
    let hostAgent: HostAgent | undefined;
    let ssh: GuestSshServers | undefined;
    const guests = new GuestConsoles(metadata);
    const host: SimulatedHost = new SimulatedHost({
      guests,
      // after the change is complete: the sshd of a VM that stopped or left closes, one that booted opens
      onVmChanged: () => ssh && queueMicrotask(() => ssh!.reconcile()),
      profile,
      clock,
      images,
      report: reporter.report,
      bootModel: { ...DEFAULT_BOOT_MODEL, fetchBandwidthMbps: profile.nicGbps * 1000, guestBootMs: config.BOOT_TIME_MS },
      modelConfig,
      onNewerEpoch: () => hostAgent?.requestReregister(),
      onSpawnSeconds: (s) => histogram?.observe({ host_id: hostId }, s),
      onError: (e, instanceId) => deps.logger.warn({ err: e, host_id: hostId, instance_id: instanceId }, 'spawn failed'),
    });
    const tunnelIp = config.TUNNEL_IP ?? (config.AGENT_HOSTS > 1 ? `127.0.1.${(i % 254) + 1}` : '127.0.0.1');
    hostAgent = new HostAgent({
      host, registry, bus: deps.bus, redis: deps.redis, logger: deps.logger, tunnelIp,
      agentEndpoint: () => endpoint, profileExtra: extra,
      isolation: { response: config.ISOLATION_RESPONSE, afterMs: config.ISOLATION_AFTER_MS, shutdownTimeoutMs: config.ISOLATION_SHUTDOWN_TIMEOUT_MS, guestShutdownMs: config.GUEST_SHUTDOWN_MS },
    });
    hosts.push(host);
    byId.set(hostId, host);
    agents.push(hostAgent);
    if (vtep && config.GUEST_SSH === 'on') {
      ssh = new GuestSshServers({
        hostId,
        logger: deps.logger,
        port: config.GUEST_SSH_PORT,
        sshdStartUptimeMs: config.GUEST_SSHD_START_MS,
        host: {
          guestOfPort: (portId) => {
            const instanceId = host.runningVmOfPort(portId);
            const view = instanceId ? guests.view(instanceId) : undefined;
            if (!instanceId || !view || view.boots === 0) return undefined;
            return { instanceId, view, cpuMhz: profile.cpuMhz, cpuUtilizationRatio: host.runtime(instanceId)?.cpuUtilizationRatio ?? 0, disks: host.guestDisks(instanceId) };
          },
          hostKeys: (instanceId) => guests.hostKeys(instanceId, newGuestHostKeys),
          nowMs: () => clock.nowMs(),
          ingressAllowed: async (portId, clientIp, dstPort) => {
            const client = await vtep();
            if (!client.checkPortIngress) return true;
            return (await client.checkPortIngress({ portId, remoteIp: clientIp, protocol: 'tcp', dstPort })).allowed;
          },
        },
      });
      guestSsh.push(ssh);
    }
    const served = ssh;
    if (vtep) overlays.push(new OverlayAgent({ hostId, tunnelIp, vtep, bus: deps.bus, logger: deps.logger, onFloatingIps: served && ((fips) => served.setFloatingIps(fips)) }));
  });
  histogram = registerAgentMetrics(deps.metrics.registry, hosts, () => overlays, config.AGENT_METRICS_MAX_INSTANCES);
  const tickInterval = modelTickIntervalMs(config.MODEL_TICK_MS, config.TIME_SCALE, config.MODEL_TICK_MIN_WALL_MS);
  const ticker = modelTicker(hosts, clock, tickInterval, registerModelTickMetrics(deps.metrics.registry));

  const migrationPublisher = createMigrationPublisher(deps.bus, deps.logger);
  const migrationToken = o.migrationToken ?? token;
  const connectMigration = (address: string): MigrationClient => createServiceClient(agent.MigrationServiceService, address, { token: migrationToken, deadlineMs: 7 * 24 * 3_600_000 });
  const ft = new FaultTolerance({ hosts: byId, clock, logger: deps.logger, connect: connectMigration, metrics: registerFtMetrics(deps.metrics.registry) });
  const migrations = new LiveMigrations({
    hosts: byId, clock, logger: deps.logger, publish: migrationPublisher.publish, metrics: registerMigrationMetrics(deps.metrics.registry),
    connect: connectMigration, ft,
  });

  return {
    services: [hypervisorService(byId, () => extra, { traceDir: config.TRACE_DIR, migrations, ft }), migrationService(migrations)],
    runnables: [...agents, ...overlays, ticker],
    verifier: o.verifier,
    readiness: { registered: () => hosts.every((h) => h.epoch > 0) },
    onListening: async (server) => {
      endpoint = server.address;
    },
    afterStop: [
      { name: 'FT checkpoint streams', run: () => ft.close() },
      { name: 'power reports', run: () => reporter.flush() },
      { name: 'migration events', run: () => migrationPublisher.flush() },
      { name: 'guest sshd', run: async () => void (await Promise.all(guestSsh.map((g) => g.stop()))) },
    ],
    handles: { hosts, agents, overlays, flushReports: reporter.flush, migrations, ft, guestSsh },
  };
}

/**
 * RegisterHost over every controller replica in the catalog (re-read at every call), with the shared
 * failoverClient: the replica that answered last is tried first; UNAVAILABLE moves to the next
 * (RegisterHost is idempotent: each call bumps the epoch and returns the host's state). The first
 * error is thrown when none answers; any other error at once.
 */
export function failoverRegistry(
  connect: (url: string) => HostRegistryClient & { close(): void },
  endpoints: () => Promise<string[]>,
): HostRegistryClient {
  return failoverClient({ endpoints, connect, retryable: (_method, e) => e instanceof UnavailableError });
}
