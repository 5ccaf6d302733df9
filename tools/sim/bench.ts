import path from 'node:path';
import { cloudSimPlanetLabScenario, parsePolicyName, simulateConsolidation } from '@minicloud/domain-consolidation';
import { loadPlanetLabDay, SHARED_DATA_DIR } from './workload';

/**
 * Wall time and peak RSS of one simulated day (default lr_mmt_1.2 on 20110303), next to the
 * reference implementation (CloudSim 3.0.3 on OpenJDK 17: 23 s, 1.7 GB).
 * Usage: npx tsx tools/sim/bench.ts [day] [policy]
 */
function main(): void {
  const [day = '20110303', policy = 'lr_mmt_1.2'] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const traces = loadPlanetLabDay(path.join(SHARED_DATA_DIR, 'planetlab', day));
  const r = simulateConsolidation(cloudSimPlanetLabScenario(traces), parsePolicyName(policy));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(`${day} ${policy}: energy ${r.energyKwh.toFixed(2)} kWh, ${r.migrations} migrations`);
  console.log(`minicloud sim: wall ${seconds.toFixed(1)} s, peak RSS ${peakMb.toFixed(0)} MB`);
  console.log('CloudSim 3.0.3 (reference): wall 23 s, peak RSS 1700 MB');
}

main();
