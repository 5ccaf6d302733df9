import { Gauge } from 'prom-client';
import { createProcessMetrics } from './metrics';
import { bearerMatches, startMetricsServer } from './http-server';

describe('metrics http server', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const m = createProcessMetrics({ service: 'test' });
    new Gauge({ name: 'minicloud_test_answer_ratio', help: 'x', registers: [m.registry] }).set(0.42);
    let ready = false;
    const srv = await startMetricsServer({ registry: m.registry, port: 0, readiness: { redis: () => ready } });
    try {
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      expect(metrics).toMatch(/minicloud_test_answer_ratio\{service="test"\} 0.42/);
      expect(metrics).toMatch(/minicloud_grpc_server_handling_seconds/);
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${srv.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toMatch(/redis/);
      ready = true;
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
      srv.setNotReady();
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(503);
    } finally {
      await srv.close();
    }
  });
});

describe('metrics http server with a bearer token', () => {
  const token = 'scrape-token-0123456789abcdef';
  it('answers /metrics only with the token (401 without it, with a wrong one, or another scheme); health stays open', async () => {
    const m = createProcessMetrics({ service: 'test' });
    new Gauge({ name: 'minicloud_test_secret_ratio', help: 'x', registers: [m.registry] }).set(0.5);
    const srv = await startMetricsServer({ registry: m.registry, port: 0, bearerToken: token, readiness: {} });
    try {
      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${token}`, `Bearer ${token}x`, 'Bearer ']) {
        const res = await fetch(`${srv.url}/metrics`, { headers: authorization ? { authorization } : {} });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await res.text()).not.toMatch(/minicloud_test_secret_ratio/);
      }
      const ok = await fetch(`${srv.url}/metrics`, { headers: { authorization: `bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/minicloud_test_secret_ratio\{service="test"\} 0.5/);
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it('compares in full: bearerMatches refuses prefixes, extensions and a missing header', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token} extra`, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
  });
});
