/**
 * Chaos, HA admission control: two agents killed at once with admission control at 1 host failure
 * (HA_HOST_FAILURES_TO_TOLERATE=1). Flavors of a quarter host: admission control admits 8 on 3 hosts
 * and refuses the 9th with RESOURCE_EXHAUSTED "admission control: ...". After killing host-1 and host-2
 * (2 high + 2 low each), every high-priority VM restarts on host-3; the low ones are ERROR with the
 * reason; when host-1 comes back (a new agent process for it), they restart there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { compute } from '@minicloud/proto';
import { ROOT } from '../cloud-harness';
import { bootOnHost, processSpec, startChaosCloud, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(240_000);

describe('chaos: two hosts fail at once under admission control', () => {
  let cc: ChaosCloud;
  let respawned: ChildProcess | undefined;

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3, controllers: 1, env: { HA_HOST_FAILURES_TO_TOLERATE: '1' } });
  });

  afterAll(async () => {
    respawned?.kill('SIGKILL');
    await cc?.stop();
  });

  it('5. high priority restarts; what does not fit is ERROR with the reason and restarts when a host returns', async () => {
    const ramMbTotal = (await cc.compute.getHost({ hostId: 'host-3' })).host!.ramMb!.total;
    const quarter = Math.floor(ramMbTotal / 4);
    await cc.compute.createFlavor({ id: 'q1', name: 'q1.quarter', vcpus: 1, ramMb: quarter, diskGb: 1, isPublic: true });
    const big = { flavorRef: 'q1' };
    const high = [...(await bootOnHost(cc, 'host-1', 2, { ...big, restartPriority: 'high' })), ...(await bootOnHost(cc, 'host-2', 2, { ...big, restartPriority: 'high' }))];
    const low = [...(await bootOnHost(cc, 'host-1', 2, { ...big, restartPriority: 'low' })), ...(await bootOnHost(cc, 'host-2', 2, { ...big, restartPriority: 'low' }))];
    // 8 quarters used of 12; keeping one host (4) free: a 9th is refused.
    const refused = cc.compute.createServer({ name: 'ninth', ...big, imageRef: cc.imageId, networks: [{ networkId: cc.networkId }] });
    await expect(refused).rejects.toBeInstanceOf(ResourceExhaustedError);
    await expect(refused).rejects.toThrow(/^admission control: ram_mb: .* for 1 host failure\(s\)$/);

    const spec1 = processSpec(cc.agentPid('host-1'));
    const t0 = Date.now();
    process.kill(cc.agentPid('host-1'), 'SIGKILL');
    process.kill(cc.agentPid('host-2'), 'SIGKILL');
    cc.checker.hostKilled('host-1');
    cc.checker.hostKilled('host-2');

    await waitAll(cc, high, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId === 'host-3', 60_000, 'every high-priority VM ACTIVE on host-3');
    const errored = await waitAll(cc, low, (s) => s.vmState === compute.VmState.VM_STATE_ERROR, 30_000, 'low-priority VMs in ERROR');
    console.log(`chaos 5: 4 high-priority VMs ACTIVE on host-3 ${((Date.now() - t0) / 1000).toFixed(1)} s after the double kill`);
    for (const s of errored) {
      expect(s.fault?.code).toBe('RESOURCE_EXHAUSTED');
      expect(s.fault?.message).toMatch(/^HA restart from failed host host-[12]: .*retried when capacity returns$/);
    }

    // host-1 comes back (a fresh agent process, same identity): the low ones restart there.
    const log = fs.openSync(path.join(cc.cloud.stateDir, 'agent-1-again.log'), 'a');
    respawned = spawn(spec1.argv[0], spec1.argv.slice(1), { cwd: ROOT, env: spec1.env, stdio: ['ignore', log, log] });
    await waitAll(cc, low, (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId === 'host-1', 90_000, 'low-priority VMs ACTIVE on the returned host-1');
    const servers = (await cc.compute.listServers({ allProjects: true })).servers;
    cc.checker.checkAcknowledged([...high, ...low], servers);
    await cc.checker.sampleAllocations();
    expect(cc.checker.violations).toEqual([]);
  });
});
