/**
 * HA benchmark: detection time and restart time, p50/p99 over 10 kills (kill -9) of a host
 * with 20 VMs, at the DEFAULT timings (heartbeat 1 s, host down after 5 s, lease TTL 3 s, self-fence
 * after 6 s). Real processes (tools/cloud bring-up, 3 agents, 2 controllers); the killed agent is
 * started again (same command line and env) before the next round.
 *   detection = kill -> the API shows the host failed (or already fenced)
 *   restart   = kill -> a VM ACTIVE on another host (per VM: 200 samples), and kill -> last of 20
 * Run: npx tsx apps/e2e/bench/ha.bench.ts [--rounds 10] [--vms 20]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compute } from '@minicloud/proto';
import { ROOT } from '../src/cloud-harness';
import { bootOnHost, processSpec, startChaosCloud, until } from '../src/chaos/chaos-kit';
import { numberArg, runBench, summary, watchRestarts } from './bench-kit';

async function main(): Promise<void> {
  const rounds = numberArg('rounds', 10);
  const vms = numberArg('vms', 20);
  const cc = await startChaosCloud({ agents: 3, controllers: 2, defaultTimings: true });
  const extra: ChildProcess[] = [];
  const detection: number[] = [];
  const perVm: number[] = [];
  const lastVm: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const hostId = `host-${((round - 1) % 3) + 1}`;
      await until(`${hostId} up`, async () => (await cc.compute.getHost({ hostId })).host!.state === compute.HostState.HOST_STATE_UP, 60_000);
      const ids = await bootOnHost(cc, hostId, vms);
      const pid = cc.agentPid(hostId);
      const spec = processSpec(pid);
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      cc.checker.hostKilled(hostId);
      const failed = [compute.HostState.HOST_STATE_FAILED, compute.HostState.HOST_STATE_FENCED];
      const { hostStateAtMs, activeAtMs } = await watchRestarts(cc, hostId, ids, failed, { what: `round ${round}: ${vms} VMs ACTIVE elsewhere`, timeoutMs: 180_000 });
      detection.push((hostStateAtMs - t0) / 1000);
      const times = [...activeAtMs.values()].map((t) => (t - t0) / 1000);
      perVm.push(...times);
      lastVm.push(Math.max(...times));
      console.log(`round ${round}: ${hostId} detection ${detection.at(-1)!.toFixed(2)} s, last VM ACTIVE ${lastVm.at(-1)!.toFixed(2)} s`);
      // Clean up: delete the VMs, start the agent again (it registers afresh).
      for (const id of ids) await cc.compute.deleteServer({ serverId: id });
      const log = fs.openSync(path.join(cc.cloud.stateDir, `${hostId}-round-${round}.log`), 'a');
      const child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: ROOT, env: spec.env, stdio: ['ignore', log, log] });
      extra.push(child);
      const p = cc.cloud.manifest.processes.find((x) => (x.host_ids ?? []).includes(hostId))!;
      p.pid = child.pid!;
    }
    console.log('\nHA bench at default timings (heartbeat 1 s, down after 5 s, lease TTL 3 s, self-fence 6 s):');
    console.log(`  detection (kill -> host failed):        ${summary(detection)}`);
    console.log(`  restart per VM (kill -> VM ACTIVE):     ${summary(perVm)}`);
    console.log(`  restart of a host (kill -> last of ${vms}): ${summary(lastVm)}`);
    console.log(`  violations seen by the invariant checker: ${cc.checker.violations.length}`);
  } finally {
    for (const c of extra) c.kill('SIGKILL');
    await cc.stop();
  }
}

runBench(main);
