/**
 * HA isolation benchmark: time from cutting one agent's NATS link (its Redis lease keeps
 * renewing) to its VMs ACTIVE on other hosts, at the DEFAULT timings (heartbeat 1 s, suspect 2.5 s,
 * down 5 s, ISOLATION_AFTER_MS 5 s, ISOLATION_RESPONSE power_off). Real processes (3 agents + one
 * agent behind a TCP proxy, 2 controllers); per round: boot N VMs on the proxied agent, cut, wait
 * until all are ACTIVE elsewhere, restore, wait until it rejoined (UP, moved VMs destroyed).
 *   isolated   = cut -> the API shows the host isolated (or already fenced)
 *   restart    = cut -> a VM ACTIVE on another host (per VM), and cut -> last of N
 *   rejoin     = restore -> host UP again with a new epoch
 * Run: npx tsx apps/e2e/bench/ha-isolation.bench.ts [--rounds 5] [--vms 10]
 */
import { compute } from '@minicloud/proto';
import { bootOnHost, startChaosCloud, startProxiedAgent, until } from '../src/chaos/chaos-kit';
import { numberArg, runBench, summary, watchRestarts } from './bench-kit';

async function main(): Promise<void> {
  const rounds = numberArg('rounds', 5);
  const vms = numberArg('vms', 10);
  const cc = await startChaosCloud({ agents: 3, controllers: 2, defaultTimings: true });
  const isolated: number[] = [];
  const perVm: number[] = [];
  const lastVm: number[] = [];
  const rejoin: number[] = [];
  const hostId = 'host-iso';
  const a = await startProxiedAgent(cc, hostId, 9, { env: { ISOLATION_RESPONSE: 'power_off' } });
  try {
    for (let round = 1; round <= rounds; round++) {
      const ids = await bootOnHost(cc, hostId, vms);
      const epoch = (await cc.compute.getHost({ hostId })).host!.epoch;
      const t0 = Date.now();
      a.proxy.cut();
      cc.checker.hostCutOff(hostId);
      // Isolated, or already fenced (isolated and fenced within one liveness tick).
      const cutOff = [compute.HostState.HOST_STATE_ISOLATED, compute.HostState.HOST_STATE_FENCED];
      const { hostStateAtMs, activeAtMs } = await watchRestarts(cc, hostId, ids, cutOff, { what: `round ${round}: ${vms} VMs ACTIVE elsewhere`, timeoutMs: 120_000 });
      isolated.push(((hostStateAtMs || Date.now()) - t0) / 1000);
      const times = [...activeAtMs.values()].map((t) => (t - t0) / 1000);
      perVm.push(...times);
      lastVm.push(Math.max(...times));
      const t1 = Date.now();
      a.proxy.restore();
      await until(`round ${round}: ${hostId} rejoined`, async () => {
        const h = (await cc.compute.getHost({ hostId })).host!;
        return h.state === compute.HostState.HOST_STATE_UP && h.epoch > epoch + 1 && (await a.agentClient.listInstances({ hostId })).instances.length === 0;
      }, 60_000, 100);
      rejoin.push((Date.now() - t1) / 1000);
      console.log(`round ${round}: isolated ${isolated.at(-1)!.toFixed(2)} s, last VM ACTIVE ${lastVm.at(-1)!.toFixed(2)} s, rejoined ${rejoin.at(-1)!.toFixed(2)} s`);
      for (const id of ids) await cc.compute.deleteServer({ serverId: id });
    }
    console.log('\nHA isolation bench at default timings (heartbeat 1 s, down after 5 s, isolation after 5 s, power_off):');
    console.log(`  cut -> host isolated (controller):  ${summary(isolated)}`);
    console.log(`  cut -> VM ACTIVE elsewhere:         ${summary(perVm)}`);
    console.log(`  cut -> last of ${vms} ACTIVE:           ${summary(lastVm)}`);
    console.log(`  restore -> rejoined clean:          ${summary(rejoin)}`);
    console.log(`  violations seen by the invariant checker: ${cc.checker.violations.length}`);
  } finally {
    await a.stop();
    await cc.stop();
  }
}

runBench(main);
