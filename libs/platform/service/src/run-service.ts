import { RevocationList, type TokenVerifier } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { requireSecret, type CommonConfig } from '@minicloud/platform-config';
import { startGrpcServer, type RunningGrpcServer, type ServiceRegistration } from '@minicloud/platform-grpc';
import { runProcess, type Runnable, type ShutdownStep } from '@minicloud/platform-lifecycle';
import { createLogger, type Logger } from '@minicloud/platform-logging';
import { createProcessMetrics, startMetricsServer, type ProcessMetrics, type ReadinessCheck } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { deniedCallAudit } from './denied-audit';
import { syncRevocations } from './revocation-sync';
import { remoteTokenVerifier, ServiceCredentials } from './service-credentials';

/** What a service's wiring function receives. */
export interface ServiceDeps {
  config: CommonConfig;
  logger: Logger;
  metrics: ProcessMetrics;
  redis: Redis;
  bus: Bus;
  /** Tokens revoked so far (fed by identity's events). */
  revocations: RevocationList;
  /** The service's own credentials towards other services (undefined for identity itself). */
  credentials?: ServiceCredentials;
}

/** What a service's wiring function returns. */
export interface ServiceWiring {
  services: ServiceRegistration[];
  runnables?: Runnable[];
  readiness?: Record<string, ReadinessCheck>;
  /** Overrides the remote verifier (identity verifies with its own keys). */
  verifier?: TokenVerifier;
  /** Run once the gRPC server listens (e.g. register the endpoint in the catalog). */
  onListening?: (server: RunningGrpcServer) => Promise<void>;
  /** Extra steps after runnables stopped, before NATS and Redis close. */
  afterStop?: ShutdownStep[];
}

/**
 * The composition every minicloud service shares: logger, metrics HTTP server, Redis, NATS (with the
 * EVENTS stream), token verification with revocations, the gRPC server, a "service ready" log line
 * (`{"msg":"service ready","grpc_address":..,"metrics_url":..}`, read by the bring-up tool), and the
 * ordered graceful shutdown on SIGTERM/SIGINT.
 */
export async function runService(opts: {
  name: string;
  config: CommonConfig;
  /** Identity is the one service that does not log in to itself. */
  selfAuthenticating?: boolean;
  wire: (deps: ServiceDeps) => Promise<ServiceWiring>;
}): Promise<void> {
  const { config } = opts;
  const logger = createLogger({ service: opts.name, level: config.LOG_LEVEL });
  const metrics = createProcessMetrics({ service: opts.name });
  const redis = await connectRedis({ url: config.REDIS_URL, name: opts.name, logger });
  const bus = await connectBus({ url: config.NATS_URL, name: opts.name, logger });
  const revocations = new RevocationList();
  const credentials = opts.selfAuthenticating
    ? undefined
    : new ServiceCredentials(config.IDENTITY_URL, { userName: config.SERVICE_USER, password: requireSecret('SERVICE_PASSWORD', config.SERVICE_PASSWORD), projectName: config.SERVICE_PROJECT }, config.REGION);
  // Revocations from NATS events, plus (except identity, which reads its own store) those already in
  // force, so a restarted service refuses tokens revoked while it was down.
  // Re-read after every NATS reconnection (core NATS does not replay what was missed meanwhile) and
  // every REVOCATION_RESYNC_INTERVAL_MS.
  const stopRevocationSync = await syncRevocations({
    bus,
    list: revocations,
    load: credentials ? async () => credentials.identity.listRevocations({}, { token: await credentials.getToken(), retry: true }) : undefined,
    resyncIntervalMs: config.REVOCATION_RESYNC_INTERVAL_MS,
    logger,
  });

  const wiring = await opts.wire({ config, logger, metrics, redis, bus, revocations, credentials });
  const verifier = wiring.verifier ?? (credentials ? remoteTokenVerifier(credentials.identity, revocations) : undefined);
  const grpc = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    services: wiring.services,
    logger,
    metrics: metrics.grpc,
    verifier,
    ...deniedCallAudit({ registry: metrics.registry, bus, source: opts.name, logger }),
  });
  const http = await startMetricsServer({
    registry: metrics.registry,
    port: config.METRICS_PORT,
    host: config.GRPC_HOST,
    bearerToken: config.METRICS_BEARER_TOKEN,
    readiness: { redis: () => redis.status === 'ready', nats: () => bus.isConnected(), ...wiring.readiness },
  });
  // The address others dial: PUBLIC_HOST (containers) in place of a bind-all GRPC_HOST.
  const advertised: RunningGrpcServer = config.PUBLIC_HOST
    ? { port: grpc.port, address: `${config.PUBLIC_HOST}:${grpc.port}`, shutdown: (ms) => grpc.shutdown(ms) }
    : grpc;
  await wiring.onListening?.(advertised);
  logger.info({ grpc_address: advertised.address, metrics_url: http.url }, 'service ready');

  await runProcess({
    logger,
    runnables: wiring.runnables ?? [],
    beforeStop: [
      { name: 'not ready', run: () => http.setNotReady() },
      { name: 'grpc server', run: () => grpc.shutdown(5000) },
    ],
    afterStop: [
      ...(wiring.afterStop ?? []),
      { name: 'revocation sync', run: () => stopRevocationSync() },
      { name: 'credentials', run: () => credentials?.close() },
      { name: 'nats', run: () => bus.close() },
      { name: 'redis', run: async () => void (await redis.quit()) },
      { name: 'metrics server', run: () => http.close() },
    ],
  });
}

/**
 * Runs `main` when `entry` (the calling file's `module`) is the script node was started with, and not
 * when a test or another module imports the file. A failure is printed and exits the process with 1.
 */
export function runWhenEntryPoint(entry: NodeModule, main: () => Promise<void>): void {
  if (require.main !== entry) return;
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
