/**
 * Evacuation by hand (Nova's evacuate / Masakari without its monitors), with real processes and HA's
 * automatic restarts off (HA_ENABLED=false): the CLI refuses to evacuate from a host that is up; after
 * kill -9 of the agent, `minicloud server evacuate <s> --host H` and `minicloud host evacuate <host>`
 * restart its servers elsewhere: the controller fences the host first (epoch bumped, only after
 * lease_ttl + self_fence_after), the invariant checker stays green.
 */
import { compute } from '@minicloud/proto';
import { bootOnHost, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(180_000);

describe('chaos: manual evacuation with HA disabled', () => {
  let cc: ChaosCloud;

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, env: { HA_ENABLED: 'false' } });
  });

  afterAll(async () => {
    await cc?.stop();
  });

  it('refused while the host is up; after a kill, server evacuate --host and host evacuate restart everything elsewhere', async () => {
    const ids = await bootOnHost(cc, 'host-1', 3);
    const [first, ...rest] = ids;
    const refused = await cc.cloud.cli(['server', 'evacuate', first]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Compute service of host-1 is still in use/);

    const epochBefore = (await cc.compute.getHost({ hostId: 'host-1' })).host!.epoch;
    process.kill(cc.agentPid('host-1'), 'SIGKILL');
    cc.checker.hostKilled('host-1');
    await until('host-1 failed', async () => (await cc.compute.getHost({ hostId: 'host-1' })).host!.state === compute.HostState.HOST_STATE_FAILED, 20_000);
    // HA is off: nothing happens by itself.
    expect((await cc.compute.getHost({ hostId: 'host-1' })).host!.epoch).toBe(epochBefore);

    const one = await cc.cloud.cli(['server', 'evacuate', first, '--host', 'host-3', '--wait', '-f', 'json']);
    expect([one.code, one.stderr]).toEqual([0, '']);
    expect(JSON.parse(one.stdout)).toMatchObject({ server_id: first, from_host: 'host-1', host: 'host-3', status: 'ACTIVE' });
    const host = await cc.cloud.cli(['host', 'evacuate', 'host-1', '--wait', '-f', 'json']);
    expect([host.code, host.stderr]).toEqual([0, '']);
    expect(JSON.parse(host.stdout).map((r: { server_id: string }) => r.server_id).sort()).toEqual([...rest].sort());

    const servers = await waitAll(cc, ids, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId !== 'host-1' && s.hostId !== '', 30_000, 'evacuated servers ACTIVE');
    expect(servers.find((s) => s.id === first)!.hostId).toBe('host-3');
    const h1 = (await cc.compute.getHost({ hostId: 'host-1' })).host!;
    expect([h1.state, h1.epoch]).toEqual([compute.HostState.HOST_STATE_FENCED, epochBefore + 1]);
    // Each evacuate action is closed by the leader's next tick after the server is ACTIVE.
    await until('evacuate actions Success', async () => {
      for (const id of ids) {
        const actions = (await cc.compute.listInstanceActions({ serverId: id })).actions;
        if (actions.find((a) => a.action === 'evacuate')?.result !== 'Success') return false;
      }
      return true;
    }, 10_000);
    cc.checker.checkAcknowledged(ids, servers);
    await cc.checker.sampleAllocations();
    expect(cc.checker.violations).toEqual([]);
  });
});
