import path from 'node:path';
import { cloudSimPlanetLabScenario, parsePolicyName, simulateConsolidation } from '@minicloud/domain-consolidation';
import { loadPlanetLabDay, loadReference, SHARED_DATA_DIR } from './workload';

// Subset of the CloudSim reference (full table: npx tsx tools/sim/compare.ts): one day, dvfs (a migrating policy takes ~100 s under jest+swc, too slow for CI).
describe('offline simulator vs CloudSim 3.0.3 reference (20110303)', () => {
  const traces = loadPlanetLabDay(path.join(SHARED_DATA_DIR, 'planetlab', '20110303'));
  const reference = loadReference().filter((r) => r.day === '20110303');
  for (const policy of ['dvfs']) {
    it(`${policy}: energy within 2 %, migrations within 5 %, SLATAH within 0.5 points`, () => {
      const ref = reference.find((r) => r.policy === policy)!;
      const r = simulateConsolidation(cloudSimPlanetLabScenario(traces), parsePolicyName(policy));
      expect(Math.abs(r.energyKwh - ref.energyKwh) / ref.energyKwh).toBeLessThanOrEqual(0.02);
      expect(Math.abs(r.migrations - ref.migrations)).toBeLessThanOrEqual(0.05 * ref.migrations);
      expect(Math.abs(r.slatahRatio * 100 - ref.slatahPct)).toBeLessThanOrEqual(0.5);
    }, 60_000);
  }
});
