import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMetricsServer, type MetricsHttpServer } from '@minicloud/platform-metrics';
import { waitFor } from '@minicloud/testing';
import { startAgentBed, type AgentBed } from './testing/agent-bed';
import { DEFAULT_TRACE_DIR } from './workload-spec';

jest.setTimeout(60_000);

const DAY = '20110303';
const VMS = 50;
const SAMPLE_WALL_MS = 12_000; // at most 12 s real = 12 h of the trace at TIME_SCALE 3600
const WANTED_INTERVALS = 30; // stop once scrapes fell in 30 different five-minute samples of the day

/** CloudSim's PlanetLab interpolation, written out independently of the domain code: linear between 5-minute samples, data[288] = data[287]. */
function expectedRatio(samples: number[], tSeconds: number): number {
  const t = tSeconds % 86_400;
  const i = Math.floor(t / 300);
  const frac = (t - i * 300) / 300;
  const a = samples[i];
  const b = samples[Math.min(i + 1, 287)];
  return (a + (b - a) * frac) / 100;
}

function parseMetrics(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(name.length + 1, line.indexOf('}'));
    const id = /instance_id="([^"]+)"/.exec(labels)?.[1] ?? /host_id="([^"]+)"/.exec(labels)![1];
    out.set(id, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

describe(`acceptance: PlanetLab ${DAY} replay, ${VMS} VMs on one host at TIME_SCALE=3600`, () => {
  let bed: AgentBed, http: MetricsHttpServer;
  let client: AgentBed['client'];
  const files = readdirSync(join(DEFAULT_TRACE_DIR, DAY)).sort().slice(0, VMS);
  const traces = new Map(files.map((f, i) => [`vm-${i}`, readFileSync(join(DEFAULT_TRACE_DIR, DAY, f), 'utf8').trim().split(/\r?\n/).map(Number)]));

  beforeAll(async () => {
    bed = await startAgentBed({
      env: { HOST_ID: 'replay-host', HOST_PROFILE: 'large-2s64c-512g', TIME_SCALE: '3600', BOOT_TIME_MS: '300' },
      registerHost: async () => ({ epoch: 1, heartbeatIntervalMs: 1000, leaseTtlMs: 3000, selfFenceAfterMs: 5000 }),
      overrides: { vtep: null, imageSource: async function* () { yield Buffer.from('base-image'); } },
      epoch: 1,
    });
    client = bed.client;
    http = await startMetricsServer({ registry: bed.metrics.registry, port: 0 });
  });

  afterAll(async () => {
    await http?.close();
    await bed?.stop();
  });

  it('exports per-VM CPU utilisation on /metrics that follows each VM\'s trace', async () => {
    await Promise.all(
      files.map((f, i) =>
        client.executeCommand({
          hostId: 'replay-host', epoch: 1, instanceId: `vm-${i}`,
          spawn: { spec: { instanceId: `vm-${i}`, flavor: { vcpus: 1, ramMb: 1024, diskGb: 10 }, image: { imageId: 'img', sha256: '' }, metadata: { 'minicloud:workload': `planetlab:${DAY}/${f}` } } },
        }),
      ),
    );
    await waitFor(async () => (await client.listInstances({ hostId: 'replay-host' })).instances.filter((r) => r.launchedAt).length === VMS, { timeoutMs: 10_000 });
    const launchedMs = new Map((await client.listInstances({ hostId: 'replay-host' })).instances.map((r) => [r.instanceId, r.launchedAt!.getTime()]));

    // Scrape /metrics for SAMPLE_WALL_MS; every scrape gives the model time and one value per VM.
    let compared = 0;
    let maxError = 0;
    const intervals = new Set<number>();
    const seenValues = new Set<number>();
    const deadline = Date.now() + SAMPLE_WALL_MS;
    while (Date.now() < deadline && intervals.size < WANTED_INTERVALS) {
      await new Promise((r) => setTimeout(r, 100));
      const text = await (await fetch(`${http.url}/metrics`)).text();
      const modelTimeS = parseMetrics(text, 'minicloud_host_model_time_seconds').get('replay-host')!;
      const util = parseMetrics(text, 'minicloud_instance_cpu_utilization_ratio');
      for (const [id, value] of util) {
        const t = modelTimeS - launchedMs.get(id)! / 1000;
        if (t < 0) continue; // a scrape older than this VM's boot
        const err = Math.abs(value - expectedRatio(traces.get(id)!, t));
        maxError = Math.max(maxError, err);
        compared++;
        intervals.add(Math.floor(t / 300));
        seenValues.add(value);
      }
    }
    // The host has 64 cores x 2800 MHz and the 50 one-vCPU VMs want at most 50 cores: no contention,
    // so usage = demand and the export must equal the trace up to float rounding of the clock times
    // (ms since the epoch carried as seconds in a double: < 1e-6 s, i.e. < 1e-8 of a 300 s slope).
    expect(maxError).toBeLessThan(1e-6);
    expect(compared).toBeGreaterThanOrEqual(VMS * 10); // >= 10 scrapes, every VM in each
    expect(intervals.size).toBeGreaterThanOrEqual(WANTED_INTERVALS); // the scrapes fell in >= 30 five-minute samples of the day
    expect(seenValues.size).toBeGreaterThan(100); // and the values moved
  });
});
