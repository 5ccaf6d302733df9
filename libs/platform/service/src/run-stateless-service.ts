import type { Runnable, ShutdownStep } from '@minicloud/platform-lifecycle';
import { runProcess } from '@minicloud/platform-lifecycle';
import { createLogger, type Logger } from '@minicloud/platform-logging';
import { createProcessMetrics, startMetricsServer, type ProcessMetrics, type ReadinessCheck } from '@minicloud/platform-metrics';

/** What a stateless service's wiring function receives. */
export interface StatelessServiceDeps {
  logger: Logger;
  metrics: ProcessMetrics;
}

/** What a stateless service's wiring function returns. */
export interface StatelessServiceWiring {
  /** Starts serving; resolves with the address to log and advertise once it listens. */
  listen: () => Promise<{ url: string }>;
  /** Stops accepting and finishes in-flight requests (first step of the shutdown, after "not ready"). */
  close: () => Promise<void>;
  runnables?: Runnable[];
  readiness?: Record<string, ReadinessCheck>;
  /** Run once listening (e.g. register the endpoint in the catalog). */
  onListening?: (url: string) => Promise<void>;
  afterStop?: ShutdownStep[];
}

/**
 * The composition of a minicloud process that keeps no state and serves no gRPC (the OpenStack REST
 * front): logger, metrics HTTP server (/metrics, /healthz, /readyz), the service's own listener, a
 * "service ready" log line (`{"msg":"service ready","http_url":..,"metrics_url":..}`, read by the
 * bring-up tool) and the ordered graceful shutdown on SIGTERM/SIGINT (not ready -> stop accepting ->
 * runnables -> afterStop -> metrics server). Unlike {@link runService} it opens no Redis or NATS
 * connection: it has nothing to keep and reaches the others through their public APIs.
 */
export async function runStatelessService(opts: {
  name: string;
  logLevel: string;
  metricsPort: number;
  metricsHost?: string;
  /** METRICS_BEARER_TOKEN: the token a scrape of /metrics must carry (unset: open). */
  metricsBearerToken?: string;
  wire: (deps: StatelessServiceDeps) => Promise<StatelessServiceWiring>;
  /** Stops the service like SIGTERM does (tests); default: only the signals. */
  signal?: AbortSignal;
  /** Default: pino JSON on stdout at `logLevel`. */
  logger?: Logger;
}): Promise<void> {
  const logger = opts.logger ?? createLogger({ service: opts.name, level: opts.logLevel });
  const metrics = createProcessMetrics({ service: opts.name });
  const wiring = await opts.wire({ logger, metrics });
  const http = await startMetricsServer({ registry: metrics.registry, port: opts.metricsPort, host: opts.metricsHost, bearerToken: opts.metricsBearerToken, readiness: wiring.readiness });
  const { url } = await wiring.listen();
  await wiring.onListening?.(url);
  logger.info({ http_url: url, metrics_url: http.url }, 'service ready');
  await runProcess({
    logger,
    signal: opts.signal,
    runnables: wiring.runnables ?? [],
    beforeStop: [
      { name: 'not ready', run: () => http.setNotReady() },
      { name: 'listener', run: () => wiring.close() },
    ],
    afterStop: [...(wiring.afterStop ?? []), { name: 'metrics server', run: () => http.close() }],
  });
}
