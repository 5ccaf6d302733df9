import path from 'node:path';
import { cloudSimPlanetLabScenario, parsePolicyName, simulateConsolidation } from '@minicloud/domain-consolidation';
import { loadPlanetLabDay, loadReference, SHARED_DATA_DIR } from './workload';

/**
 * Runs the offline simulator for every (day, policy) of the CloudSim reference CSV and prints both
 * side by side with the acceptance checks (energy within 2 %, migrations within 5 %, SLATAH within
 * 0.5 points). Usage: npx tsx tools/sim/compare.ts [day ...]
 */
function main(): void {
  const only = process.argv.slice(2);
  const rows = loadReference().filter((r) => only.length === 0 || only.includes(r.day));
  const days = new Map<string, number[][]>();
  let failures = 0;
  console.log('day       policy        energy sim/ref (kWh)    migrations sim/ref    SLATAH% sim/ref  PDM% sim/ref  shutdowns sim/ref  ok');
  for (const ref of rows) {
    if (!days.has(ref.day)) days.set(ref.day, loadPlanetLabDay(path.join(SHARED_DATA_DIR, 'planetlab', ref.day)));
    const r = simulateConsolidation(cloudSimPlanetLabScenario(days.get(ref.day)!), parsePolicyName(ref.policy));
    const eErr = Math.abs(r.energyKwh - ref.energyKwh) / ref.energyKwh;
    const mErr = ref.migrations === 0 ? r.migrations : Math.abs(r.migrations - ref.migrations) / ref.migrations;
    const sErr = Math.abs(r.slatahRatio * 100 - ref.slatahPct);
    const ok = eErr <= 0.02 && mErr <= 0.05 && sErr <= 0.5;
    if (!ok) failures++;
    console.log(
      `${ref.day}  ${ref.policy.padEnd(12)}  ${r.energyKwh.toFixed(2).padStart(8)}/${ref.energyKwh.toFixed(2).padEnd(8)} ${(eErr * 100).toFixed(1).padStart(5)}%  ` +
        `${String(r.migrations).padStart(6)}/${String(ref.migrations).padEnd(6)} ${(mErr * 100).toFixed(1).padStart(5)}%  ` +
        `${(r.slatahRatio * 100).toFixed(2).padStart(6)}/${ref.slatahPct.toFixed(2).padEnd(6)}  ${(r.pdmRatio * 100).toFixed(3)}/${ref.pdmPct.toFixed(2)}  ` +
        `${String(r.hostShutdowns).padStart(5)}/${String(ref.hostShutdowns).padEnd(5)}  ${ok ? 'yes' : 'NO'}`,
    );
  }
  console.log(`${rows.length - failures}/${rows.length} within tolerance`);
}

main();
