import { ServerGroupSpec } from '../request-spec';
import { makeHost, makeSpec } from '../testing';
import { serverGroupAffinityFilter } from './server-group-affinity-filter';

const group = (policy: ServerGroupSpec['policy'], hostIds: string[]): ServerGroupSpec => ({ id: 'g1', policy, hostIds });

describe('ServerGroupAffinityFilter', () => {
  it.each([
    { name: 'no group', group: undefined, passed: true },
    { name: 'empty affinity group: first member goes anywhere', group: group('affinity', []), passed: true },
    { name: 'host holds the group', group: group('affinity', ['h1']), passed: true },
    { name: 'group lives elsewhere', group: group('affinity', ['h2']), passed: false },
    { name: 'soft-affinity is not enforced', group: group('soft-affinity', ['h2']), passed: true },
    { name: 'anti-affinity is not this filter', group: group('anti-affinity', ['h2']), passed: true },
  ])('$name -> $passed', ({ group: g, passed }) => {
    const result = serverGroupAffinityFilter.hostPasses(makeHost({ hostId: 'h1' }), makeSpec({ serverGroup: g }));
    expect(result.passed).toBe(passed);
  });
});
