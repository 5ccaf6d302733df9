import { makeHost, makeSpec } from '../testing';
import { sameHostFilter } from './same-host-filter';

describe('SameHostFilter', () => {
  it.each([
    { name: 'no hint', hint: undefined, passed: true },
    { name: 'empty hint', hint: [], passed: true },
    { name: 'host runs one of them', hint: ['i9', 'i2'], passed: true },
    { name: 'host runs none', hint: ['i9'], passed: false },
  ])('$name -> $passed', ({ hint, passed }) => {
    const host = makeHost({ hostId: 'h1', instanceIds: new Set(['i1', 'i2']) });
    expect(sameHostFilter.hostPasses(host, makeSpec({ schedulerHints: { sameHost: hint } })).passed).toBe(passed);
  });
});
