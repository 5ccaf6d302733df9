import { runElasticityScenario, ScenarioResult } from './elasticity-scenario';
import { referenceScenario, STEP_100_1000_100 } from './presets';

function firstTime(r: ScenarioResult, from: number, pred: (s: ScenarioResult['samples'][number]) => boolean): number | null {
  return r.samples.find((s) => s.tSeconds >= from && pred(s))?.tSeconds ?? null;
}

describe('runElasticityScenario: step 100 -> 1,000 -> 100 requests/s', () => {
  const r = runElasticityScenario(referenceScenario(STEP_100_1000_100, 7200));

  it('starts at min size with low CPU', () => {
    const s = r.samples.find((x) => x.tSeconds === 540)!;
    expect(s.inService).toBe(2);
    expect(s.averageCpuPercent).toBeLessThan(30);
  });

  it('scales out until average CPU is within 10 points of the 50 % target within 10 minutes of the step', () => {
    const t = firstTime(r, 600, (s) => Math.abs(s.averageCpuPercent - 50) <= 10 && s.inService >= 8);
    expect(t).not.toBeNull();
    expect(t! - 600).toBeLessThanOrEqual(600);
    const peak = r.samples.filter((s) => s.tSeconds >= 1800 && s.tSeconds <= 4200);
    for (const s of peak) {
      expect(s.inService).toBeLessThanOrEqual(10);
      expect(Math.abs(s.averageCpuPercent - 50)).toBeLessThanOrEqual(10);
    }
  });

  it('p99 recovers: under 50 ms once scaled out, though above it while saturated', () => {
    const during = r.samples.filter((s) => s.tSeconds > 600 && s.tSeconds <= 780);
    expect(Math.max(...during.map((s) => s.p99Seconds))).toBeGreaterThan(0.05);
    const after = r.samples.filter((s) => s.tSeconds >= 1800 && s.tSeconds <= 4200);
    for (const s of after) expect(s.p99Seconds).toBeLessThan(0.05);
  });

  it('scales in after the load falls, to min, without a request sent to a member being removed', () => {
    const end = r.samples[r.samples.length - 1];
    expect(end.inService).toBe(2);
    const firstIn = r.events.find((e) => e.tSeconds > 4200 && e.description.startsWith('policy') && /-> [0-9]+$/.test(e.description) && Number(e.description.split('-> ')[1]) < 8);
    expect(firstIn).toBeDefined();
    // 15 one-minute datapoints under target before the first scale-in.
    expect(firstIn!.tSeconds - 4200).toBeGreaterThanOrEqual(15 * 60);
    expect(r.requestsToRemovedMembers).toBe(0);
    expect(r.requestsCutAtTermination).toBeLessThan(0.5);
    expect(r.events.some((e) => e.description.includes('drained and terminated'))).toBe(true);
  });
});

describe('runElasticityScenario: chaos', () => {
  it('a killed member is detected within the monitor window, its traffic moves, and it is replaced', () => {
    const r = runElasticityScenario(referenceScenario({ kind: 'constant', rps: 600 }, 3600, { failures: [{ atSeconds: 1830, instanceIndex: 0 }] }));
    const killed = r.events.find((e) => e.description.startsWith('chaos'))!;
    const id = killed.description.split(' ')[3];
    const error = r.events.find((e) => e.description === `${id} operating_status ERROR`)!;
    // delay 5 s x max_retries_down 3 (probes run on the 5 s tick)
    expect(error.tSeconds - killed.tSeconds).toBeLessThanOrEqual(15);
    expect(r.samples.find((s) => s.tSeconds === 1860)!.failedRps).toBeGreaterThan(0);
    const failedAfter = r.samples.filter((s) => s.tSeconds >= 1920);
    for (const s of failedAfter) expect(s.failedRps).toBe(0);
    expect(r.events.some((e) => e.description.startsWith('health check replacement') && e.description.includes(id))).toBe(true);
    const end = r.samples[r.samples.length - 1];
    expect(end.inService).toBe(end.desiredCapacity);
  });

  it('without chaos nothing fails', () => {
    const r = runElasticityScenario(referenceScenario({ kind: 'constant', rps: 300 }, 1800));
    expect(r.samples.every((s) => s.failedRps === 0)).toBe(true);
  });

  it('refuses an evaluation period that is not a multiple of the tick', () => {
    expect(() => runElasticityScenario(referenceScenario({ kind: 'constant', rps: 1 }, 60, { evaluationPeriodSeconds: 7 }))).toThrow('evaluation_period_seconds');
  });
});
