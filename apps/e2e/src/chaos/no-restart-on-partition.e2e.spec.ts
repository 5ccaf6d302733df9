/**
 * Chaos, controller-side partition: every host's heartbeats stop at once (NATS paused with SIGSTOP for
 * longer than detection + fencing). The controller assumes it is the one cut off: it restarts nothing
 * (no host fenced, no evacuate action, no VM moved), says so in minicloud_ha_partition_suspected, and
 * everything is as before once NATS resumes.
 */
import { compute } from '@minicloud/proto';
import { sampleSum, scrape } from '../cloud-harness';
import { bootOnHost, pidsMatching, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(180_000);

describe('chaos: all heartbeats stop at once', () => {
  let cc: ChaosCloud;

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, controllers: 1 });
  });

  afterAll(async () => {
    await cc?.stop();
  });

  it('6. NATS paused: no restart happens', async () => {
    const ids = [...(await bootOnHost(cc, 'host-1', 3)), ...(await bootOnHost(cc, 'host-2', 3))];
    const before = new Map((await cc.compute.listServers({ allProjects: true })).servers.map((s) => [s.id, s.hostId]));
    const natsPort = new URL(cc.cloud.manifest.nats_url).port;
    const [natsPid] = pidsMatching('nats-server', '-p', natsPort);
    expect(natsPid).toBeGreaterThan(0);
    const controller = cc.cloud.manifest.processes.find((p) => p.kind === 'controller')!;
    process.kill(natsPid, 'SIGSTOP');
    try {
      // Detection (2 s) + fence wait (2 s) + margin: long enough that a real failure would be acted on.
      await until('partition suspected by the leader', async () => sampleSum(await scrape(controller.metrics_url, cc.cloud.manifest.metrics_bearer_token), 'minicloud_ha_partition_suspected') === 1, 15_000, 250);
      await new Promise((r) => setTimeout(r, 6000));
      expect(sampleSum(await scrape(controller.metrics_url, cc.cloud.manifest.metrics_bearer_token), 'minicloud_ha_fencings_total')).toBe(0);
    } finally {
      process.kill(natsPid, 'SIGCONT');
    }
    await until('every host UP again', async () => (await cc.compute.listHosts({})).hosts.every((h) => h.state === compute.HostState.HOST_STATE_UP), 30_000);
    const servers = await waitAll(cc, ids, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE, 20_000, 'servers still ACTIVE');
    for (const s of servers) expect(s.hostId).toBe(before.get(s.id));
    for (const id of ids) expect((await cc.compute.listInstanceActions({ serverId: id })).actions.map((a) => a.action)).not.toContain('evacuate');
    expect((await cc.compute.listHosts({})).hosts.map((h) => h.epoch)).toEqual([1, 1, 1]);
    expect(sampleSum(await scrape(controller.metrics_url, cc.cloud.manifest.metrics_bearer_token), 'minicloud_ha_partition_suspected')).toBe(0);
    cc.checker.checkAcknowledged(ids, servers);
    expect(cc.checker.violations).toEqual([]);
  });
});
