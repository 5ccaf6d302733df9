import { capacityRps, erlangC, MAX_UTILISATION, poolResponsePercentile, queueMetrics, responseTimeSurvival, servedRps } from './queueing';

const mm1 = { vcpus: 1, serviceTimeSeconds: 0.01 };

describe('erlangC', () => {
  it.each([
    // c, a, expected (Erlang C tables; c = 1 gives rho)
    [1, 0.5, 0.5],
    [2, 1, 1 / 3],
    [4, 2, 0.17391304],
    [10, 8, 0.40918015],
  ])('C(%d, %d) = %f', (c, a, expected) => {
    expect(erlangC(c, a)).toBeCloseTo(expected, 6);
  });
  it('is 0 with no load and refuses a >= c', () => {
    expect(erlangC(3, 0)).toBe(0);
    expect(() => erlangC(2, 2)).toThrow('offered_load');
    expect(() => erlangC(0, 0.1)).toThrow('vcpus');
  });
});

describe('queueMetrics', () => {
  it('M/M/1: R = S / (1 - rho), N = rho / (1 - rho)', () => {
    const m = queueMetrics(mm1, 50); // rho 0.5
    expect(m.utilisation).toBeCloseTo(0.5, 9);
    expect(m.meanResponseSeconds).toBeCloseTo(0.02, 9);
    expect(m.meanConcurrency).toBeCloseTo(1, 9);
    expect(m.saturated).toBe(false);
  });
  it('M/M/2 at a = 1: R = S + C / (2 mu - lambda)', () => {
    const m = queueMetrics({ vcpus: 2, serviceTimeSeconds: 0.01 }, 100);
    expect(m.meanResponseSeconds).toBeCloseTo(0.01 + (1 / 3) / 100, 9);
  });
  it('cuts the arrival rate at capacity and says so', () => {
    expect(capacityRps(mm1)).toBeCloseTo(100 * MAX_UTILISATION, 9);
    expect(servedRps(mm1, 500)).toBeCloseTo(98, 9);
    const m = queueMetrics(mm1, 500);
    expect(m.saturated).toBe(true);
    expect(m.utilisation).toBeCloseTo(MAX_UTILISATION, 9);
  });
  it('refuses a server without vCPUs or service time', () => {
    expect(() => queueMetrics({ vcpus: 0, serviceTimeSeconds: 0.01 }, 1)).toThrow('vcpus');
    expect(() => queueMetrics({ vcpus: 1, serviceTimeSeconds: 0 }, 1)).toThrow('service_time_seconds');
  });
});

describe('response time distribution', () => {
  it('M/M/1 survival is exponential with rate mu - lambda', () => {
    for (const t of [0.001, 0.02, 0.1]) expect(responseTimeSurvival(mm1, 50, t)).toBeCloseTo(Math.exp(-50 * t), 9);
  });
  it('M/M/c survival starts at 1 and decreases', () => {
    const s = { vcpus: 4, serviceTimeSeconds: 0.02 };
    expect(responseTimeSurvival(s, 150, 0)).toBeCloseTo(1, 9);
    expect(responseTimeSurvival(s, 150, 0.05)).toBeLessThan(responseTimeSurvival(s, 150, 0.01));
  });
  it('the mean from the survival integral matches R (theta = mu case included)', () => {
    for (const [server, rps] of [[{ vcpus: 2, serviceTimeSeconds: 0.01 }, 100], [{ vcpus: 2, serviceTimeSeconds: 0.01 }, 150], [{ vcpus: 8, serviceTimeSeconds: 0.05 }, 120]] as const) {
      let integral = 0;
      const dt = 1e-5;
      for (let t = 0; t < 2; t += dt) integral += responseTimeSurvival(server, rps, t + dt / 2) * dt;
      expect(integral).toBeCloseTo(queueMetrics(server, rps).meanResponseSeconds, 5);
    }
  });
});

describe('poolResponsePercentile', () => {
  it('one M/M/1 member: -R ln(1 - q)', () => {
    expect(poolResponsePercentile([{ server: mm1, rps: 50 }], 0.99)).toBeCloseTo(-0.02 * Math.log(0.01), 6);
    expect(poolResponsePercentile([{ server: mm1, rps: 50 }], 0.5)).toBeCloseTo(-0.02 * Math.log(0.5), 6);
  });
  it('a hot member raises the pool p99 above the cool member alone', () => {
    const cool = poolResponsePercentile([{ server: mm1, rps: 20 }], 0.99);
    const mixed = poolResponsePercentile([{ server: mm1, rps: 20 }, { server: mm1, rps: 90 }], 0.99);
    expect(mixed).toBeGreaterThan(cool);
  });
  it('is 0 with no traffic and refuses q outside (0, 1)', () => {
    expect(poolResponsePercentile([{ server: mm1, rps: 0 }], 0.99)).toBe(0);
    expect(() => poolResponsePercentile([], 1)).toThrow('quantile');
  });
});
