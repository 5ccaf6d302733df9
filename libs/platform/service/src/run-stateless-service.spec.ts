import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { runStatelessService } from './run-stateless-service';

describe('runStatelessService', () => {
  it('serves metrics and readiness, logs "service ready" with both URLs, registers once, and shuts down in order on abort', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const steps: string[] = [];
    const abort = new AbortController();
    let metricsUrl = '';
    const server = http.createServer((_req, res) => res.end('hi'));
    const done = runStatelessService({
      name: 'front',
      logLevel: 'info',
      metricsPort: 0,
      logger,
      signal: abort.signal,
      wire: async ({ metrics }) => {
        expect(metrics.registry).toBeDefined();
        return {
          listen: () =>
            new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))),
          close: () => new Promise<void>((resolve) => server.close(() => (steps.push('listener closed'), resolve()))),
          readiness: { listening: () => server.listening },
          onListening: async (url) => void steps.push(`registered ${url}`),
          afterStop: [{ name: 'clients', run: () => void steps.push('clients closed') }],
        };
      },
    });
    for (let i = 0; i < 200 && !lines.some((l) => l.msg === 'service ready'); i++) await new Promise((r) => setImmediate(r));
    const ready = lines.find((l) => l.msg === 'service ready')!;
    expect(ready.http_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    metricsUrl = String(ready.metrics_url);
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${metricsUrl}/metrics`)).text()).toMatch(/minicloud_process_cpu_seconds_total\{service="front"\}/);
    expect(await (await fetch(String(ready.http_url))).text()).toBe('hi');
    abort.abort();
    await done;
    expect(steps).toEqual([`registered ${ready.http_url}`, 'listener closed', 'clients closed']);
    await expect(fetch(`${metricsUrl}/healthz`)).rejects.toThrow();
  });
});
