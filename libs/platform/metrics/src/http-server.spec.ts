import { Gauge } from 'prom-client';
import { createProcessMetrics } from './metrics';
import { startMetricsServer } from './http-server';

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
