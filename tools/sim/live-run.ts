import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { cloudSimPlanetLabScenario, CLOUDSIM_VM_TYPES, parsePolicyName, simulateConsolidation } from '@minicloud/domain-consolidation';
import { compute } from '@minicloud/proto';
import { sampleSum, scrape, startCloud, type RunningCloud } from '../../apps/e2e/src/cloud-harness';
import { adminSession, manifestTls, uploadQcow2Image, type Session } from '../cloud/seed';
import { loadPlanetLabDay, SHARED_DATA_DIR } from './workload';

/**
 * The live consolidation run (`npm run bench:consolidation`): brings up a cloud with the
 * DRS/DPM loop on (CloudSim's hosts: HP ML110 G4/G5 alternating, TIME_SCALE x300 by default), boots
 * the first N VMs of a PlanetLab day with their traces (CloudSim's four VM types in contiguous blocks,
 * 1 vCPU), lets a span of virtual time pass, and prints the energy (from the agents' energy counters
 * and the controller's cloud sum), live migrations and host shutdowns (DPM standby transitions) from
 * /metrics, next to the offline simulator's figures for the same VMs, hosts, policy and span.
 */
async function main(): Promise<void> {
  const o = new Command('live-run')
    .option('--vms <n>', 'VMs: the first N trace files of the day (sorted)', '100')
    .option('--agents <n>', 'agent processes', '4')
    .option('--hosts-per-agent <n>', 'simulated hosts per agent', '10')
    .option('--time-scale <x>', 'virtual time speed-up', '300')
    .option('--hours <h>', 'virtual hours measured after the boots', '24')
    .option('--policy <name>', 'consolidation policy', 'lr-mmt-1.2')
    .option('--day <d>', 'PlanetLab day', '20110303')
    .option('--boot-concurrency <n>', 'servers created at once', '8')
    .option('--vm-ram-mb <mb>', "live flavors' RAM instead of CloudSim's types (CloudSim ignores RAM once VMs run; a real cloud cannot)")
    .parse()
    .opts<{ vms: string; agents: string; hostsPerAgent: string; timeScale: string; hours: string; policy: string; day: string; bootConcurrency: string; vmRamMb?: string }>();
  const n = Number(o.vms);
  const hosts = Number(o.agents) * Number(o.hostsPerAgent);
  const scale = Number(o.timeScale);
  const hours = Number(o.hours);
  const dayDir = path.join(SHARED_DATA_DIR, 'planetlab', o.day);
  const files = fs.readdirSync(dayDir).filter((f) => fs.statSync(path.join(dayDir, f)).isFile()).sort().slice(0, n);

  // Offline first (fast): the same VMs, hosts, policy and span.
  const traces = loadPlanetLabDay(dayDir).slice(0, n);
  const scenario = { ...cloudSimPlanetLabScenario(traces, hosts), simulationLimitSeconds: hours * 3600 };
  // CloudSim admits a VM only onto a host with its full MIPS free, so past ~2 VMs per host (80 on 40 hosts)
  // it cannot place the scenario at all: the live run still goes on, and the table says why a row is missing.
  const offline = (s: typeof scenario) => {
    try {
      return simulateConsolidation(s, parsePolicyName(o.policy));
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const sim = offline(scenario);
  // The live demand model: a VM asks trace x one core (1860 MHz on a G4, the smaller core), with the live RAM.
  const liveLike = o.vmRamMb ? offline({ ...scenario, vms: scenario.vms.map((v) => ({ ...v, mips: 1860, ramMb: Number(o.vmRamMb) })) }) : undefined;

  console.log(`live run: ${n} VMs of ${o.day}${o.vmRamMb ? ` (live flavors ${o.vmRamMb} MB)` : ''}, ${hosts} hosts (${o.agents} agents x ${o.hostsPerAgent}), policy ${o.policy}, x${scale}, ${hours} virtual h (${((hours * 3600) / scale).toFixed(0)} s wall)`);
  const t0 = Date.now();
  const cloud = await startCloud({
    agents: Number(o.agents),
    timeoutMs: 300_000,
    extraArgs: ['--hosts-per-agent', o.hostsPerAgent, '--time-scale', String(scale), '--host-profile', 'hp-proliant-ml110-g4,hp-proliant-ml110-g5'],
    env: {
      CONSOLIDATION_ENABLED: 'true',
      CONSOLIDATION_POLICY: o.policy,
      // CloudSim hosts have 4 GB: allow the agents' 1.5x memory overcommit so the VMs fit at all.
      RAM_ALLOCATION_RATIO: process.env.RAM_ALLOCATION_RATIO ?? '1.5',
      HA_HOST_FAILURES_TO_TOLERATE: '0',
      WORKER_CONCURRENCY: '8',
    },
  });
  let admin: Session | undefined;
  try {
    console.log(`cloud up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    admin = await adminSession(cloud.manifest.identity_url, cloud.manifest.admin.user, cloud.manifest.admin.password, cloud.manifest.admin.project, manifestTls(cloud.manifest));
    await admin.identity.setQuota({ projectId: admin.projectId, limits: { instances: -1, cores: -1, ram_mb: -1 } });
    for (const [i, t] of CLOUDSIM_VM_TYPES.entries()) {
      const ramMb = o.vmRamMb ? Number(o.vmRamMb) : t.ramMb;
      await admin.compute.createFlavor({ id: `cloudsim.t${i}`, name: `cloudsim.t${i}`, vcpus: 1, ramMb, diskGb: 1, isPublic: true }).catch(() => undefined);
    }
    const imageId = await uploadQcow2Image(admin, path.join(os.tmpdir(), 'minicloud-live-run'), 'cirros', '64M');
    const net = (await admin.network.createNetwork({ name: 'live-run' })).network!;
    await admin.network.createSubnet({ networkId: net.id, name: 'live-run', cidr: '10.64.0.0/16', dnsNameservers: [] });

    // Boots: VM i gets trace i and type floor(i / ceil(N/4)) (Helper.createVmList).
    const perType = Math.ceil(n / CLOUDSIM_VM_TYPES.length);
    const ids: string[] = [];
    const tb = Date.now();
    let next = 0;
    const bootOne = async () => {
      for (let i = next++; i < n; i = next++) {
        const res = await admin!.compute.createServer({
          name: `pl-${i}`, flavorRef: `cloudsim.t${Math.floor(i / perType)}`, imageRef: imageId, networks: [{ networkId: net.id }],
          metadata: { 'minicloud:workload': `planetlab:${o.day}/${files[i]}` },
        });
        ids.push(res.servers[0].id);
      }
    };
    await Promise.all(Array.from({ length: Number(o.bootConcurrency) }, bootOne));
    await waitActive(admin, ids);
    console.log(`${n} VMs ACTIVE in ${((Date.now() - tb) / 1000).toFixed(0)} s`);

    const before = await figures(cloud);
    const spanMs = (hours * 3600 * 1000) / scale;
    const tr = Date.now();
    while (Date.now() - tr < spanMs) {
      await new Promise((r) => setTimeout(r, Math.min(20_000, spanMs - (Date.now() - tr))));
      const f = await figures(cloud);
      console.log(
        `  virtual +${((f.modelTimeS - before.modelTimeS) / 3600).toFixed(1)} h: ${f.standbyHosts} hosts in standby, cloud ${f.powerW.toFixed(0)} W, ` +
          `${f.migrations - before.migrations} migrations, ${f.shutdowns - before.shutdowns} shutdowns`,
      );
    }
    const after = await figures(cloud);
    const virtualH = (after.modelTimeS - before.modelTimeS) / 3600;
    const live = {
      energyKwh: (after.energyJ - before.energyJ) / 3.6e6,
      migrations: after.migrations - before.migrations,
      shutdowns: after.shutdowns - before.shutdowns,
    };
    const row = (name: string, e: number, m: number, s: number) => console.log(`${name.padEnd(28)} ${e.toFixed(2).padStart(10)} ${String(m).padStart(11)} ${String(s).padStart(15)}`);
    console.log(`\nmeasured over ${virtualH.toFixed(2)} virtual hours (${((Date.now() - tr) / 1000).toFixed(0)} s wall); hosts in standby at the end: ${after.standbyHosts}/${hosts}`);
    console.log(`${''.padEnd(28)} ${'energy kWh'.padStart(10)} ${'migrations'.padStart(11)} ${'host shutdowns'.padStart(15)}`);
    row(`live (${o.policy})`, live.energyKwh, live.migrations, live.shutdowns);
    const simRow = (name: string, r: typeof sim | undefined) => {
      if (!r) return;
      if ('error' in r) console.log(`${name.padEnd(28)} n/a: CloudSim cannot place this scenario (${r.error})`);
      else row(name, r.energyKwh, r.migrations, r.hostShutdowns);
    };
    simRow(`offline sim (${o.policy})`, sim);
    simRow(`offline sim, VM = 1 core`, liveLike);
    if (!('error' in sim)) console.log(`(the offline simulator removes a VM for good once its trace reads 0, as CloudSim does: ${sim.vmsRemoved} of ${n} VMs)`);
    console.log(`cloud energy (controller sum of heartbeats): ${((after.cloudEnergyJ - before.cloudEnergyJ) / 3.6e6).toFixed(2)} kWh`);
  } finally {
    admin?.close();
    await cloud.stop();
  }
}

/** Figures from /metrics: agents' energy and standby, the controller's migrations, shutdowns and cloud sums. */
async function figures(cloud: RunningCloud) {
  const agents = cloud.manifest.processes.filter((p) => p.kind === 'compute-agent');
  const ctl = cloud.manifest.processes.find((p) => p.kind === 'controller')!;
  const agentText = await Promise.all(agents.map((a) => scrape(a.metrics_url, cloud.manifest.metrics_bearer_token)));
  const ctlText = await scrape(ctl.metrics_url, cloud.manifest.metrics_bearer_token);
  const modelTimes = agentText.map((t) => maxOf(t, 'minicloud_host_model_time_seconds'));
  return {
    energyJ: agentText.reduce((s, t) => s + sampleSum(t, 'minicloud_host_energy_joules_total'), 0),
    standbyHosts: agentText.reduce((s, t) => s + (sampleSum(t, 'minicloud_host_standby') || 0), 0),
    powerW: agentText.reduce((s, t) => s + sampleSum(t, 'minicloud_host_power_watts'), 0),
    modelTimeS: Math.min(...modelTimes),
    migrations: sampleSum(ctlText, 'minicloud_consolidation_migrations_total') || 0,
    shutdowns: sampleSum(ctlText, 'minicloud_dpm_host_power_transitions_total', { to: 'standby' }) || 0,
    cloudEnergyJ: sampleSum(ctlText, 'minicloud_cloud_energy_joules_total'),
  };
}

function maxOf(text: string, metric: string): number {
  let max = 0;
  for (const l of text.split('\n')) if (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) max = Math.max(max, Number(l.split(' ').pop()));
  return max;
}

async function waitActive(admin: Session, ids: string[]): Promise<void> {
  const deadline = Date.now() + 600_000;
  const pending = new Set(ids);
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const s = (await admin.compute.getServer({ serverId: id })).server!;
      if (s.vmState === compute.VmState.VM_STATE_ACTIVE && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED) pending.delete(id);
      else if (s.vmState === compute.VmState.VM_STATE_ERROR) throw new Error(`server ${s.name} failed: ${s.fault?.message}`);
    }
    if (Date.now() > deadline) throw new Error(`${pending.size} servers not ACTIVE in 10 min`);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 500));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
