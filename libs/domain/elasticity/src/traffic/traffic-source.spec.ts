import { fitDiurnal, offeredRps, parseRpsTrace, TrafficSource, validateTrafficSource } from './traffic-source';

describe('offeredRps', () => {
  it.each<[TrafficSource, number, number]>([
    [{ kind: 'constant', rps: 42 }, 1e6, 42],
    [{ kind: 'step', initialRps: 100, steps: [{ atSeconds: 60, rps: 1000 }, { atSeconds: 600, rps: 100 }] }, 59, 100],
    [{ kind: 'step', initialRps: 100, steps: [{ atSeconds: 60, rps: 1000 }, { atSeconds: 600, rps: 100 }] }, 60, 1000],
    [{ kind: 'step', initialRps: 100, steps: [{ atSeconds: 60, rps: 1000 }, { atSeconds: 600, rps: 100 }] }, 700, 100],
    [{ kind: 'sine', meanRps: 100, amplitudeRps: 50, periodSeconds: 400 }, 100, 150],
    [{ kind: 'sine', meanRps: 10, amplitudeRps: 50, periodSeconds: 400 }, 300, 0],
    [{ kind: 'diurnal', meanRps: 100, harmonics: [{ amplitudeRatio: 0.5, peakHour: 15 }] }, 15 * 3600, 150],
    [{ kind: 'diurnal', meanRps: 100, harmonics: [{ amplitudeRatio: 0.5, peakHour: 15 }] }, 3 * 3600 + 86400, 50],
    [{ kind: 'trace', intervalSeconds: 10, rps: [0, 100, 50] }, 15, 75],
    [{ kind: 'trace', intervalSeconds: 10, rps: [0, 100, 50] }, 25, 25],
    [{ kind: 'trace', intervalSeconds: 10, rps: [0, 100, 50], scale: 2 }, 40, 200],
  ])('%o at %d s -> %d rps', (src, t, expected) => {
    expect(offeredRps(src, t)).toBeCloseTo(expected, 6);
  });
});

describe('validateTrafficSource', () => {
  it.each<[TrafficSource, string]>([
    [{ kind: 'constant', rps: -1 }, 'rps'],
    [{ kind: 'step', initialRps: 0, steps: [{ atSeconds: 10, rps: 1 }, { atSeconds: 5, rps: 1 }] }, 'steps[1].at_seconds'],
    [{ kind: 'sine', meanRps: 1, amplitudeRps: 1, periodSeconds: 0 }, 'period_seconds'],
    [{ kind: 'trace', intervalSeconds: 1, rps: [] }, 'rps'],
    [{ kind: 'trace', intervalSeconds: 0, rps: [1] }, 'interval_seconds'],
  ])('%o -> %s', (src, field) => {
    expect(() => validateTrafficSource(src)).toThrow(field);
  });
});

describe('fitDiurnal', () => {
  it('recovers the harmonics of a synthetic day', () => {
    const src: TrafficSource = { kind: 'diurnal', meanRps: 200, harmonics: [{ amplitudeRatio: 0.4, peakHour: 14 }, { amplitudeRatio: 0.1, peakHour: 3 }] };
    const samples = Array.from({ length: 24 }, (_, h) => offeredRps(src, h * 3600));
    const fit = fitDiurnal(samples, 2);
    expect(fit.meanRps).toBeCloseTo(200, 6);
    expect(fit.harmonics[0].amplitudeRatio).toBeCloseTo(0.4, 6);
    expect(fit.harmonics[0].peakHour).toBeCloseTo(14, 6);
    expect(fit.harmonics[1].amplitudeRatio).toBeCloseTo(0.1, 6);
    expect(fit.harmonics[1].peakHour).toBeCloseTo(3, 6);
  });
  it('needs enough samples', () => expect(() => fitDiurnal([1, 2, 3, 4], 2)).toThrow('samples'));
});

describe('parseRpsTrace', () => {
  it('reads comments, blank lines and samples', () => {
    expect(parseRpsTrace('# a trace\n0,1.5\n\n60,2\n120,3\n')).toEqual({ intervalSeconds: 60, rps: [1.5, 2, 3] });
  });
  it.each([
    ['0,1\n60,x\n', 'line 2'],
    ['5,1\n60,2\n', 'first offset'],
    ['0,1\n60,2\n100,3\n', 'equally spaced'],
    ['0,1\n', 'two samples'],
    ['0,1\n60,-2\n', 'line 2'],
  ])('%j -> %s', (text, msg) => {
    expect(() => parseRpsTrace(text)).toThrow(msg);
  });
});
