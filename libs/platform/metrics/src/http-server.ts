import { createHash, timingSafeEqual } from 'node:crypto';
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
 * Whether an `Authorization` header carries `Bearer <token>` (RFC 6750; the scheme is
 * case-insensitive). Compared in constant time over SHA-256 digests, so neither the token's
 * content nor its length leaks through timing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (200 while the process runs) and `/readyz`
 * (200 when every readiness check passes, else 503 with the failing check names).
 * With `bearerToken` (METRICS_BEARER_TOKEN), `/metrics` answers only a scrape carrying
 * `Authorization: Bearer <token>` (Prometheus' scrape `authorization`); any other is 401 with
 * `WWW-Authenticate: Bearer` and no metric is computed. `/healthz` and `/readyz` stay open: they
 * carry no data, and load balancers and the bring-up probe them without credentials.
 */
export async function startMetricsServer(opts: {
  registry: Registry;
  port: number;
  host?: string;
  readiness?: Record<string, ReadinessCheck>;
  /** The scrape token; undefined or empty: /metrics is open. */
  bearerToken?: string;
}): Promise<MetricsHttpServer> {
  let shuttingDown = false;
  const server = http.createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics' && opts.bearerToken && !bearerMatches(req.headers.authorization, opts.bearerToken)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' });
        res.end('a bearer token is required to scrape /metrics\n');
      } else if (path === '/metrics') {
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
