/**
 * Compute-agent model benchmark: CPU time per simulated VM per model tick, and resident memory, with
 * 1, 100 and 1,000 VMs on one simulated host (large-2s64c-512g). Each size runs in its own child
 * process so RSS figures do not mix. VMs follow PlanetLab 20110303 traces (cycled), booted from one
 * image (so TPS and QCOW2 overlays are exercised), each with one vNIC.
 *
 *   npx tsx apps/compute-agent/bench/agent.bench.ts            # all sizes
 *   npx tsx apps/compute-agent/bench/agent.bench.ts --vms 100  # one size (what the parent runs)
 *
 * A tick covers 360 s of simulated time (TIME_SCALE 3600 with a 100 ms wall tick), so disk/vNIC
 * counters and balloons move every tick. Also times one /metrics scrape (prom-client text) of the host.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { ImageCache, profileByName } from '@minicloud/domain-hypervisor';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { registerAgentMetrics } from '../src/agent-metrics';
import { SimulatedHost, type ImageProvider } from '../src/simulated-host';
import { DEFAULT_TRACE_DIR, parseWorkload } from '../src/workload-spec';

const SIZES = [1, 100, 1000];
const TICK_MS = 360_000;
const TICKS = 200;

/** A manual clock: time moves only when `advance` is called; timers fire in order. */
class ManualClock implements Clock {
  private now = Date.UTC(2011, 2, 3);
  private timers: { at: number; fn: () => void; h: object }[] = [];
  nowMs = () => this.now;
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const h = {};
    this.timers.push({ at: this.now + ms, fn, h });
    return h;
  };
  clearTimeout = (h: TimerHandle) => void (this.timers = this.timers.filter((t) => t.h !== h));
  advance(ms: number) {
    this.now += ms;
    const due = this.timers.filter((t) => t.at <= this.now).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.now);
    due.forEach((t) => t.fn());
  }
}

const images: ImageProvider = {
  cache: new ImageCache(2 ** 40),
  acquire: async () => ({ cached: true, sizeBytes: 2 * 2 ** 30 }),
  release: () => undefined,
  cachedImageIds: () => ['img'],
};

async function runOne(n: number): Promise<void> {
  const clock = new ManualClock();
  const host = new SimulatedHost({ profile: profileByName('large-2s64c-512g', 'bench-host'), clock, images, report: () => undefined });
  host.setEpoch(1);
  const dir = join(DEFAULT_TRACE_DIR, '20110303');
  const files = readdirSync(dir).sort();
  for (let i = 0; i < n; i++) {
    const workload = parseWorkload(`planetlab:20110303/${files[i % files.length]}`, i);
    host.execute(1, `vm-${i}`, {
      type: 'spawn',
      spec: { instanceId: `vm-${i}`, flavor: { vcpus: 1, ramMb: 512, diskGb: 5 }, image: { imageId: 'img', sha256: '' }, workload, portIds: [`port-${i}`], volumeIds: [] },
    });
  }
  await new Promise((r) => setImmediate(r));
  clock.advance(1000); // every boot completes
  if (host.modelSnapshot().vms.size !== n) throw new Error(`expected ${n} VMs in the model, got ${host.modelSnapshot().vms.size}`);
  for (let i = 0; i < 10; i++) (clock.advance(TICK_MS), host.tick()); // warm-up (JIT)
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < TICKS; i++) {
    clock.advance(TICK_MS);
    host.tick();
  }
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  const metrics = createProcessMetrics({ service: 'bench' });
  registerAgentMetrics(metrics.registry, [host], () => [], 200);
  await metrics.registry.metrics();
  const s0 = process.hrtime.bigint();
  const text = await metrics.registry.metrics();
  const scrapeMs = Number(process.hrtime.bigint() - s0) / 1e6;
  (globalThis as { gc?: () => void }).gc?.();
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  const snap = host.modelSnapshot();
  console.log(JSON.stringify({
    vms: n, ticks: TICKS, cpu_us_per_tick: cpuUs / TICKS, cpu_us_per_vm_per_tick: cpuUs / TICKS / n, wall_us_per_vm_per_tick: wallUs / TICKS / n,
    rss_mb: +rssMb.toFixed(1), heap_used_mb: +heapMb.toFixed(1), scrape_ms: +scrapeMs.toFixed(2), scrape_bytes: text.length,
    host_cpu_utilization: +snap.cpu.utilizationRatio.toFixed(3), host_memory_state: snap.memory.state,
  }));
}

function main(): void {
  const i = process.argv.indexOf('--vms');
  if (i >= 0) {
    void runOne(Number(process.argv[i + 1])).catch((e) => (console.error(e), process.exit(1)));
    return;
  }
  console.log(`compute-agent model bench: ${TICKS} ticks of ${TICK_MS / 1000} s simulated, one large-2s64c-512g host`);
  console.log('vms | CPU us / VM / tick | CPU us / tick | RSS MB | heap MB | /metrics scrape ms (cap 200 VMs)');
  for (const n of SIZES) {
    const out = execFileSync(process.execPath, [...process.execArgv, '--expose-gc', __filename, '--vms', String(n)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    console.log(`${String(n).padStart(4)} | ${r.cpu_us_per_vm_per_tick.toFixed(2).padStart(8)} | ${r.cpu_us_per_tick.toFixed(0).padStart(8)} | ${String(r.rss_mb).padStart(6)} | ${String(r.heap_used_mb).padStart(6)} | ${r.scrape_ms}`);
  }
}

main();
