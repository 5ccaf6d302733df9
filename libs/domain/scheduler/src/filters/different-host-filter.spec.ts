import { makeHost, makeSpec } from '../testing';
import { differentHostFilter } from './different-host-filter';

describe('DifferentHostFilter', () => {
  it.each([
    { name: 'no hint', hint: undefined, passed: true },
    { name: 'empty hint', hint: [], passed: true },
    { name: 'host runs none', hint: ['i9'], passed: true },
    { name: 'host runs one', hint: ['i9', 'i2'], passed: false },
  ])('$name -> $passed', ({ hint, passed }) => {
    const host = makeHost({ hostId: 'h1', instanceIds: new Set(['i1', 'i2']) });
    const result = differentHostFilter.hostPasses(host, makeSpec({ schedulerHints: { differentHost: hint } }));
    expect(result.passed).toBe(passed);
    if (!result.passed) expect(result.reason).toContain('i2');
  });
});
