import { parseTrafficSource } from './elasticity';

describe('parseTrafficSource', () => {
  it.each([
    ['constant:250', { kind: 'constant', rps: 250 }],
    ['step:100;600=1000;4200=100', { kind: 'step', initialRps: 100, steps: [{ atSeconds: 600, rps: 1000 }, { atSeconds: 4200, rps: 100 }] }],
    ['sine:500,300,3600', { kind: 'sine', meanRps: 500, amplitudeRps: 300, periodSeconds: 3600 }],
    ['trace:60:1,2,3', { kind: 'trace', intervalSeconds: 60, traceRps: [1, 2, 3], scale: 1 }],
    ['trace:60:1,2:170', { kind: 'trace', intervalSeconds: 60, traceRps: [1, 2], scale: 170 }],
  ])('%s', (text, expected) => {
    expect(parseTrafficSource(text)).toMatchObject(expected);
  });
  it.each(['tsunami:1', 'constant:lots', 'sine:1,x,3'])('refuses %s naming --traffic', (text) => {
    expect(() => parseTrafficSource(text)).toThrow('--traffic');
  });
});
