import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A readiness probe: resolves true when the process can serve (dependencies connected). */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface MetricsHttpServer {
  /** The bound port (useful when 0 was asked). */
  port: number;
  url: string;
  /** Flips /readyz to 503 at once (first step of graceful shutdown). */
  setNotReady(): void;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (200 while the process runs) and `/readyz`
 * (200 when every readiness check passes, else 503 with the failing check names).
 */
export async function startMetricsServer(opts: {
  registry: Registry;
  port: number;
  host?: string;
  readiness?: Record<string, ReadinessCheck>;
}): Promise<MetricsHttpServer> {
  let shuttingDown = false;
  const server = http.createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        const body = await opts.registry.metrics();
        res.writeHead(200, { 'content-type': opts.registry.contentType });
        res.end(body);
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else if (path === '/readyz') {
        const failing: string[] = shuttingDown ? ['shutting_down'] : [];
        for (const [name, check] of Object.entries(opts.readiness ?? {})) {
          const ok = await Promise.resolve(check()).catch(() => false);
          if (!ok) failing.push(name);
        }
        res.writeHead(failing.length ? 503 : 200, { 'content-type': 'text/plain' });
        res.end(failing.length ? `not ready: ${failing.join(', ')}\n` : 'ready\n');
      } else {
        res.writeHead(404);
        res.end();
      }
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    setNotReady: () => {
      shuttingDown = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
