import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writePrometheusConfig } from './local-prometheus';

describe('writePrometheusConfig', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prom-cfg-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a config promtool accepts, the rules, and one file_sd list per job from the processes', () => {
    const file = writePrometheusConfig(dir, [
      { name: 'identity', kind: 'identity', metrics_url: 'http://127.0.0.1:9100' },
      { name: 'agent-1', kind: 'compute-agent', metrics_url: 'http://127.0.0.1:9201' },
      { name: 'agent-2', kind: 'compute-agent', metrics_url: 'http://127.0.0.1:9202' },
    ]);
    expect(file).toBe(path.join(dir, 'prometheus.yml'));
    expect(fs.readdirSync(path.join(dir, 'rules')).sort()).toEqual(['minicloud-alerts.yml', 'minicloud-recording.yml']);
    const agents = JSON.parse(fs.readFileSync(path.join(dir, 'targets/compute-agent.json'), 'utf8'));
    expect(agents).toEqual([
      { targets: ['127.0.0.1:9201'], labels: { process: 'agent-1' } },
      { targets: ['127.0.0.1:9202'], labels: { process: 'agent-2' } },
    ]);
    // Jobs with nothing running still get a (valid, empty) list.
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'targets/volume.json'), 'utf8'))).toEqual([]);
    const r = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/WARNING|FAILED/);
    expect(r.status).toBe(0);
  });

  it('with a bearer token file, every job scrapes with it (promtool accepts the config)', () => {
    const tokenFile = path.join(dir, 'metrics token');
    fs.writeFileSync(tokenFile, 'scrape-token-0123456789abcdef', { mode: 0o600 });
    const file = writePrometheusConfig(dir, [{ name: 'identity', kind: 'identity', metrics_url: 'http://127.0.0.1:9100' }], { bearerTokenFile: tokenFile });
    const text = fs.readFileSync(file, 'utf8');
    const jobs = text.match(/^  - job_name: /gm)!.length;
    expect(jobs).toBe(8);
    expect(text.split(`authorization: { type: Bearer, credentials_file: ${JSON.stringify(tokenFile)} }`).length - 1).toBe(jobs);
    const r = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/WARNING|FAILED/);
    expect(r.status).toBe(0);
  });
});
