import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The metrics every gRPC server records, per service and method (names follow
 * `minicloud_<subsystem>_<name>_<unit>`; labels snake_case).
 */
export interface GrpcServerMetrics {
  /** minicloud_grpc_server_handled_total{grpc_service, grpc_method, grpc_code} */
  handled: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  /** minicloud_grpc_server_handling_seconds{grpc_service, grpc_method} */
  handlingSeconds: Histogram<'grpc_service' | 'grpc_method'>;
}

/** A process's metric registry with Node's default metrics and the gRPC server metrics. */
export interface ProcessMetrics {
  registry: Registry;
  grpc: GrpcServerMetrics;
}

/**
 * Creates the registry for one process. Default labels `service` (and e.g. `host_id` for agents)
 * are added to every series.
 */
export function createProcessMetrics(opts: { service: string; defaultLabels?: Record<string, string> }): ProcessMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: opts.service, ...opts.defaultLabels });
  // prom-client's default metrics under our prefix: minicloud_process_cpu_seconds_total, minicloud_nodejs_heap_size_used_bytes, ...
  collectDefaultMetrics({ register: registry, prefix: 'minicloud_' });
  const handled = new Counter({
    name: 'minicloud_grpc_server_handled_total',
    help: 'gRPC calls completed by the server, by method and status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers: [registry],
  });
  const handlingSeconds = new Histogram({
    name: 'minicloud_grpc_server_handling_seconds',
    help: 'Latency of gRPC calls handled by the server.',
    labelNames: ['grpc_service', 'grpc_method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, grpc: { handled, handlingSeconds } };
}
