/**
 * The deploy/ configuration is checked with the real tools: promtool (config, rules, rule unit tests,
 * and the PromQL syntax of every dashboard query) and docker-compose (the compose file validates
 * without an engine). tools/setup.sh installs both (Debian packages prometheus, docker-compose).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allQueries, DASHBOARDS } from './dashboards';
import { renderedDashboards } from './build-dashboards';

const DEPLOY = path.resolve(__dirname, '../../deploy');
const PROM = path.join(DEPLOY, 'prometheus');

function run(cmd: string, args: string[], cwd = PROM): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} not runnable (${r.error.message}); run tools/setup.sh`);
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('Prometheus configuration (promtool)', () => {
  it.each(['prometheus.yml', 'prometheus-file-sd.yml'])('%s is a valid config with its rule files', (file) => {
    // promtool checks that credentials files exist: a copy with a stand-in for the generated token
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promcfg-'));
    try {
      fs.cpSync(PROM, dir, { recursive: true });
      fs.mkdirSync(path.join(dir, 'secrets'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'secrets', 'metrics-token'), 'stand-in-token-of-32-characters!');
      const r = run('promtool', ['check', 'config', file], dir);
      expect(r.out).toMatch(/SUCCESS: 2 rule files found/);
      expect(r.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the compose config sends the metrics bearer token on every minicloud job (the services' METRICS_BEARER_TOKEN)", () => {
    const text = fs.readFileSync(path.join(PROM, 'prometheus.yml'), 'utf8');
    const jobs = text.split(/\n  - job_name: /).slice(1);
    const minicloudJobs = jobs.filter((j) => !j.startsWith('prometheus\n'));
    expect(minicloudJobs.length).toBe(8);
    for (const j of minicloudJobs) expect(j).toContain('authorization: { type: Bearer, credentials_file: secrets/metrics-token }');
  });

  it('the rule files are valid and define the operator alerts', () => {
    const r = run('promtool', ['check', 'rules', 'rules/minicloud-recording.yml', 'rules/minicloud-alerts.yml']);
    expect(r.code).toBe(0);
    const alerts = fs.readFileSync(path.join(PROM, 'rules/minicloud-alerts.yml'), 'utf8');
    const names = [...alerts.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(names).toEqual(
      expect.arrayContaining([
        'MinicloudHostDown',
        'MinicloudHaRestartFailed',
        'MinicloudHaRestartsPending',
        'MinicloudCapacityBelowHaReserve',
        'MinicloudSchedulerNoValidHost',
        'MinicloudMigrationFailures',
        'MinicloudAuthenticationFailuresSpike',
      ]),
    );
  });

  it('promtool test rules: every alert has a unit test, and they pass', () => {
    const alerts = fs.readFileSync(path.join(PROM, 'rules/minicloud-alerts.yml'), 'utf8');
    const tests = fs.readFileSync(path.join(PROM, 'tests/alerts.test.yml'), 'utf8');
    for (const [, name] of alerts.matchAll(/- alert: (\w+)/g)) expect(tests).toContain(`alertname: ${name}`);
    const r = run('promtool', ['test', 'rules', 'tests/alerts.test.yml']);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });

  it('promtool test rules fails when an alert does not behave as its test says (the check can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
    try {
      fs.mkdirSync(path.join(dir, 'rules'));
      fs.mkdirSync(path.join(dir, 'tests'));
      fs.copyFileSync(path.join(PROM, 'rules/minicloud-recording.yml'), path.join(dir, 'rules/minicloud-recording.yml'));
      // A broken HostDown threshold: never fires.
      const alerts = fs.readFileSync(path.join(PROM, 'rules/minicloud-alerts.yml'), 'utf8').replace('{state=~"down|failed|fenced|isolated"}) > 0', '{state=~"down|failed|fenced|isolated"}) > 5');
      fs.writeFileSync(path.join(dir, 'rules/minicloud-alerts.yml'), alerts);
      fs.copyFileSync(path.join(PROM, 'tests/alerts.test.yml'), path.join(dir, 'tests/alerts.test.yml'));
      const r = run('promtool', ['test', 'rules', 'tests/alerts.test.yml'], dir);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/MinicloudHostDown/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every dashboard query is valid PromQL (checked by promtool as recording rules)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promql-'));
    try {
      const rules = allQueries().map((q, i) => `      - record: dashboard:query:${i}\n        expr: ${JSON.stringify(q.expr)}`);
      fs.writeFileSync(path.join(dir, 'queries.yml'), `groups:\n  - name: dashboards\n    rules:\n${rules.join('\n')}\n`);
      const r = run('promtool', ['check', 'rules', 'queries.yml'], dir);
      expect(r.out).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
      expect(r.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboards', () => {
  it('the committed JSON is what tools/dashboards/dashboards.ts renders (run build-dashboards.ts)', () => {
    for (const [file, text] of renderedDashboards()) expect({ file, text: fs.readFileSync(file, 'utf8') }).toEqual({ file, text });
  });

  it('has the six dashboards (overview, host, HA, scheduler, energy, overlay), every panel with at least one query', () => {
    expect(DASHBOARDS.map((d) => d.uid)).toEqual(['minicloud-overview', 'minicloud-host', 'minicloud-ha', 'minicloud-scheduler', 'minicloud-energy', 'minicloud-overlay']);
    for (const d of DASHBOARDS) for (const p of d.panels) expect(p.queries.length).toBeGreaterThan(0);
  });

  it('is provisioned with the datasource uid the panels use', () => {
    const ds = fs.readFileSync(path.join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    const uid = /uid: (\S+)/.exec(ds)?.[1];
    const overview = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana/dashboards/minicloud-overview.json'), 'utf8'));
    expect(overview.panels[0].datasource.uid).toBe(uid);
  });
});

describe('docker-compose.yml', () => {
  const compose = (...args: string[]) => execFileSync('docker-compose', ['-f', path.join(DEPLOY, 'docker-compose.yml'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('validates (docker-compose config -q)', () => {
    expect(() => compose('config', '-q')).not.toThrow();
  });

  it('has the whole cloud, two controller and two OpenStack API replicas and named volumes for Redis, NATS and images', () => {
    expect(compose('config', '--services').trim().split('\n').sort()).toEqual(
      ['compute-agent', 'controller-1', 'controller-2', 'elasticity', 'grafana', 'identity', 'image', 'nats', 'network', 'openstack-api', 'openstack-api-1', 'openstack-api-2', 'prometheus', 'redis', 'volume'].sort(),
    );
    expect(compose('config', '--volumes').trim().split('\n')).toEqual(expect.arrayContaining(['redis-data', 'nats-data', 'image-data']));
  });

  it('serves the OpenStack APIs on one published port: HAProxy balancing over both replicas, which publish none and name that port', () => {
    const services = compose('config').split(/\n  (?=[a-z0-9-]+:\n)/);
    const service = (name: string) => services.find((s) => s.startsWith(`${name}:`))!;
    expect(service('openstack-api')).toMatch(/\n    ports:\n    - published: 5080\n      target: 5080\n/);
    expect(service('openstack-api')).toMatch(/haproxy\.cfg:\/usr\/local\/etc\/haproxy\/haproxy\.cfg:ro/);
    const cfg = fs.readFileSync(path.join(DEPLOY, 'haproxy/haproxy.cfg'), 'utf8');
    expect(cfg).toMatch(/\n  mode tcp\n/);
    expect(cfg).toMatch(/\n  bind :5080\n/);
    expect(cfg).toMatch(/\n  option httpchk GET \/readyz\n/);
    for (const replica of ['openstack-api-1', 'openstack-api-2']) {
      expect(service(replica)).not.toMatch(/\n    ports:/);
      expect(service(replica)).toMatch(/PUBLIC_URL: http:\/\/localhost:5080\n/);
      expect(service(replica)).toMatch(/HTTP_PORT: '5080'\n/);
      expect(cfg).toContain(`\n  server ${replica} ${replica}:5080\n`);
    }
  });

  it('leaves compute agents scalable: no fixed hostname, container name or host port', () => {
    const text = compose('config');
    const agent = text.split(/\n  (?=[a-z0-9-]+:\n)/).find((s) => s.startsWith('compute-agent:'))!;
    expect(agent).toBeDefined();
    expect(agent).not.toMatch(/\n    (hostname|container_name|ports):/);
    expect(agent).toMatch(/MINICLOUD_APP: compute-agent/);
  });

  it('hardens the deployment: Prometheus and Grafana on the loopback only, Grafana without anonymous access, a metrics token and an identity user per service', () => {
    const services = compose('config').split(/\n  (?=[a-z0-9-]+:\n)/);
    const service = (name: string) => services.find((x) => x.startsWith(`${name}:`))!;
    expect(service('prometheus')).toMatch(/\n    ports:\n    - 127\.0\.0\.1:9090:9090\/tcp\n    [a-z]/);
    expect(service('grafana')).toMatch(/\n    ports:\n    - 127\.0\.0\.1:3000:3000\/tcp\n    [a-z]/);
    expect(service('grafana')).toMatch(/GF_AUTH_ANONYMOUS_ENABLED: "false"/);
    expect(service('grafana')).not.toMatch(/GF_AUTH_ANONYMOUS_ORG_ROLE/);
    for (const name of ['identity', 'image', 'volume', 'network', 'controller-1', 'controller-2', 'openstack-api-1', 'openstack-api-2', 'compute-agent']) {
      expect(service(name)).toMatch(/\n      METRICS_BEARER_TOKEN: /);
    }
    for (const [name, user] of [['image', 'svc-image'], ['volume', 'svc-volume'], ['network', 'svc-network'], ['elasticity', 'svc-elasticity'], ['controller-1', 'svc-controller'], ['controller-2', 'svc-controller'], ['openstack-api-1', 'svc-openstack-api'], ['openstack-api-2', 'svc-openstack-api']]) {
      expect(service(name)).toContain(`\n      SERVICE_USER: ${user}\n`);
    }
    expect(service('identity')).toMatch(/\n      SERVICE_ACCOUNTS: /);
  });

  it('takes the per-service passwords, the accounts and the metrics token from deploy/.env', () => {
    const text = fs.readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
    for (const v of ['MINICLOUD_SERVICE_ACCOUNTS', 'MINICLOUD_METRICS_BEARER_TOKEN', ...['IMAGE', 'VOLUME', 'NETWORK', 'CONTROLLER', 'OPENSTACK_API'].map((s) => `MINICLOUD_ACCOUNT_PASSWORD_SVC_${s}`)]) {
      expect(text).toContain(`\${${v}:-}`);
    }
  });
});
