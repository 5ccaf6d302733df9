import fs from 'node:fs';
import path from 'node:path';
import {
  offeredRps,
  parseRpsTrace,
  referenceScenario,
  runElasticityScenario,
  ScenarioResult,
  STEP_100_1000_100,
  TrafficSource,
} from '@minicloud/domain-elasticity';

/**
 * The elasticity policies in virtual time: the step scenario (100 -> 1,000 -> 100 requests/s) and a
 * real day of web traffic (www.cs.wisc.edu, 28 Nov 2000, scaled so its busiest hour offers 1,000
 * requests/s), each through the same planner the elasticity service runs.
 * Usage: npx tsx tools/sim/elasticity-bench.ts [step|day|all]
 */
const TRACE = path.join(__dirname, '..', '..', 'data', 'traces', 'wisc-cs-2000-11-28-hourly.csv');

function fmt(n: number, width: number, digits = 0): string {
  return n.toFixed(digits).padStart(width);
}

function print(title: string, r: ScenarioResult, everySeconds: number, wallMs: number): void {
  console.log(`\n== ${title} ==`);
  console.log('    time  offered/s  served/s  dropped/s  desired  in-service  avg CPU %  p50 ms  p99 ms');
  for (const s of r.samples.filter((x) => x.tSeconds % everySeconds === 0)) {
    const hh = String(Math.floor(s.tSeconds / 3600)).padStart(2, '0');
    const mm = String(Math.floor((s.tSeconds % 3600) / 60)).padStart(2, '0');
    console.log(
      `   ${hh}:${mm}  ${fmt(s.offeredRps, 9)}  ${fmt(s.servedRps, 8)}  ${fmt(s.droppedRps + s.failedRps, 9)}  ${fmt(s.desiredCapacity, 7)}  ${fmt(s.inService, 10)}  ${fmt(s.averageCpuPercent, 9, 1)}  ${fmt(s.p50Seconds * 1000, 6, 1)}  ${fmt(s.p99Seconds * 1000, 6, 1)}`,
    );
  }
  const scale = r.events.filter((e) => e.description.startsWith('policy') || e.description.startsWith('scheduled'));
  const measured = r.samples.filter((s) => s.averageCpuPercent > 0);
  const within = measured.filter((s) => Math.abs(s.averageCpuPercent - 50) <= 10).length;
  const p99s = r.samples.map((s) => s.p99Seconds).sort((a, b) => a - b);
  const offered = r.samples.reduce((a, s) => a + s.offeredRps, 0);
  const lost = r.samples.reduce((a, s) => a + s.droppedRps + s.failedRps, 0);
  const instanceMinutes = r.samples.reduce((a, s) => a + s.inService, 0);
  console.log(`scale events: ${scale.length}; ${scale.slice(0, 12).map((e) => `${(e.tSeconds / 60).toFixed(0)} min ${e.description.replace(/^policy /, '')}`).join('; ')}${scale.length > 12 ? '; ...' : ''}`);
  console.log(`minutes with average CPU within 10 points of the 50 % target: ${within} of ${measured.length} (${((100 * within) / measured.length).toFixed(0)} %)`);
  console.log(`p99 over the run: median ${(p99s[Math.floor(p99s.length / 2)] * 1000).toFixed(1)} ms, worst minute ${(p99s[p99s.length - 1] * 1000).toFixed(1)} ms`);
  console.log(`requests lost (over capacity or to a dead member): ${((100 * lost) / offered).toFixed(3)} %; sent to members being removed: ${r.requestsToRemovedMembers.toFixed(0)}; cut at termination: ${r.requestsCutAtTermination.toFixed(2)}`);
  console.log(`instance-minutes: ${instanceMinutes} (a fixed group sized for the peak: ${Math.max(...r.samples.map((s) => s.inService)) * r.samples.length}); wall ${wallMs.toFixed(0)} ms`);
}

function run(title: string, source: TrafficSource, seconds: number, every: number): void {
  const t0 = performance.now();
  const r = runElasticityScenario(referenceScenario(source, seconds, title.includes('chaos') ? { failures: [{ atSeconds: 1830, instanceIndex: 0 }] } : {}));
  print(title, r, every, performance.now() - t0);
}

function main(): void {
  const which = process.argv[2] ?? 'all';
  if (which === 'step' || which === 'all') run('step 100 -> 1,000 -> 100 requests/s (2 h, chaos kill at 30.5 min)', STEP_100_1000_100, 7200, 300);
  if (which === 'day' || which === 'all') {
    const trace = parseRpsTrace(fs.readFileSync(TRACE, 'utf8'));
    const peak = Math.max(...trace.rps);
    const source: TrafficSource = { kind: 'trace', ...trace, scale: 1000 / peak };
    console.log(`\ntrace ${path.basename(TRACE)}: ${trace.rps.length} samples, peak ${peak.toFixed(2)} req/s scaled x${(1000 / peak).toFixed(0)} (offered at 15:00 after offset: ${offeredRps(source, 14 * 3600).toFixed(0)} req/s)`);
    run('one day of www.cs.wisc.edu traffic, peak scaled to 1,000 requests/s (24 h virtual)', source, 86400, 3600);
  }
}

main();
