/**
 * DRS/DPM end to end: the cloud as processes with the consolidation loop on (thr-mmt-0.8,
 * TIME_SCALE 300: a round every second), driven through the CLI. An empty cloud keeps one host on
 * and powers the others off (0 W, state standby, not failed); a boot nothing else can take wakes a
 * host; lightly loaded hosts are consolidated by live migration and the emptied host goes back to standby.
 */
import fs from 'node:fs';
import { waitFor } from '@minicloud/testing';
import { sampleSum, scrape, seedTinyCloud, startCloud, type RunningCloud } from './cloud-harness';

jest.setTimeout(240_000);

describe('consolidation: DPM standby, wake on demand, DRS live migrations', () => {
  let cloud: RunningCloud;
  const cli = (...args: string[]) => cloud.run(args);
  const json = (...args: string[]) => cloud.json(args);
  const hosts = async (): Promise<{ id: string; state: string }[]> => json('host', 'list');
  const standby = async () => (await hosts()).filter((h) => h.state === 'standby').map((h) => h.id);
  const agentMetrics = async () => (await Promise.all(cloud.manifest.processes.filter((p) => p.kind === 'compute-agent').map((p) => scrape(p.metrics_url, cloud.manifest.metrics_bearer_token)))).join('\n');
  const controllerMetrics = () => scrape(cloud.manifest.processes.find((p) => p.kind === 'controller')!.metrics_url, cloud.manifest.metrics_bearer_token);
  const server = async (name: string) => json('server', 'show', name);

  beforeAll(async () => {
    cloud = await startCloud({
      agents: 3,
      extraArgs: ['--time-scale', '300'],
      env: { CONSOLIDATION_ENABLED: 'true', CONSOLIDATION_POLICY: 'thr-mmt-0.8', DPM_MIN_ACTIVE_HOSTS: '1', HA_HOST_FAILURES_TO_TOLERATE: '0' },
    });
    await cli('login');
    await cli('quota', 'set', 'admin', '--instances=-1', '--cores=-1', '--ram=-1');
    await seedTinyCloud(cloud, { network: 'drs-net', cidr: '10.30.0.0/24' });
    // More than half of a std-2s32c-256g host's 262,144 MB: two never share a host.
    await cli('flavor', 'create', 'm1.huge', '--vcpus', '1', '--ram', '150000', '--disk', '1');
  });

  afterAll(async () => {
    await cloud?.stop();
    if (cloud) fs.rmSync(cloud.stateDir, { recursive: true, force: true });
  });

  it('an empty cloud keeps one host on; the others are in standby at 0 W and HA leaves them alone', async () => {
    await waitFor(async () => (await standby()).length === 2, { timeoutMs: 30_000 });
    // The agents power off once the hosts stayed unclaimed for the settle time.
    await waitFor(async () => sampleSum(await agentMetrics(), 'minicloud_host_standby') === 2, { timeoutMs: 15_000 });
    const m = await agentMetrics();
    for (const id of await standby()) {
      expect(sampleSum(m, 'minicloud_host_standby', { host_id: id })).toBe(1);
      expect(sampleSum(m, 'minicloud_host_power_watts', { host_id: id })).toBe(0);
    }
    const states = (await hosts()).map((h) => h.state).sort();
    expect(states).toEqual(['standby', 'standby', 'up']);
  });

  it('a boot that fits nowhere on the powered-on host wakes a standby host', async () => {
    const [on] = (await hosts()).filter((h) => h.state === 'up').map((h) => h.id);
    const slept = await standby();
    await cli('server', 'create', 'huge1', '--image', 'cirros', '--flavor', 'm1.huge', '--network', 'drs-net', '--wait', '--timeout', '60');
    expect((await server('huge1')).host_id).toBe(on);
    await cli('server', 'create', 'huge2', '--image', 'cirros', '--flavor', 'm1.huge', '--network', 'drs-net', '--wait', '--timeout', '60');
    const h2 = await server('huge2');
    expect(h2.status).toBe('ACTIVE');
    expect(slept).toContain(h2.host_id);
    expect((await hosts()).find((h) => h.id === h2.host_id)!.state).toBe('up');
    expect(sampleSum(await controllerMetrics(), 'minicloud_dpm_host_power_transitions_total', { to: 'up' })).toBeGreaterThanOrEqual(1);
  });

  it('lightly loaded hosts are consolidated by live migration and the emptied host returns to standby', async () => {
    const huge1 = await server('huge1');
    const huge2 = await server('huge2');
    await cli('server', 'create', 'light', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'drs-net', '--hint', `different_host=${huge1.id}`, '--property', 'minicloud:workload=constant:0.05', '--wait', '--timeout', '60');
    expect((await server('light')).host_id).toBe(huge2.host_id);
    await cli('server', 'delete', 'huge2', '--wait', '--timeout', '60');
    // Two underloaded hosts: one is emptied into the other, then powered off.
    await waitFor(async () => {
      const [a, b] = [await server('huge1'), await server('light')];
      return a.host_id === b.host_id && a.status === 'ACTIVE' && b.status === 'ACTIVE' && !a.task_state && !b.task_state;
    }, { timeoutMs: 60_000 });
    await waitFor(async () => (await standby()).length === 2, { timeoutMs: 30_000 });
    const holder = (await server('huge1')).host_id;
    expect(await standby()).not.toContain(holder);
    const migrations = [...(await json('server', 'migration', 'list', '--server', 'huge1')), ...(await json('server', 'migration', 'list', '--server', 'light'))];
    expect(migrations.some((m: { status: string }) => m.status === 'completed')).toBe(true);
    // DPM marks the host standby first; it powers the agent off (and counts the transition) once the
    // host stayed unclaimed for the settle time.
    await waitFor(async () => sampleSum(await agentMetrics(), 'minicloud_host_standby') === 2, { timeoutMs: 15_000 });
    await waitFor(async () => sampleSum(await controllerMetrics(), 'minicloud_dpm_host_power_transitions_total', { to: 'standby' }) >= 3, { timeoutMs: 5_000 });
    const ctl = await controllerMetrics();
    expect(sampleSum(ctl, 'minicloud_consolidation_migrations_total', { reason: 'underload' })).toBeGreaterThanOrEqual(1);
    // Cloud energy is exported and standby hosts add no power.
    expect(sampleSum(ctl, 'minicloud_cloud_energy_joules_total')).toBeGreaterThan(0);
    const m = await agentMetrics();
    expect(sampleSum(m, 'minicloud_host_power_watts')).toBeCloseTo(sampleSum(m, 'minicloud_host_power_watts', { host_id: holder }), 6);
  });
});
