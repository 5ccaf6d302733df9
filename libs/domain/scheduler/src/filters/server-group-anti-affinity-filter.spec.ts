import { ServerGroupSpec } from '../request-spec';
import { makeHost, makeSpec } from '../testing';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity-filter';

const group = (policy: ServerGroupSpec['policy'], hostIds: string[], maxServerPerHost?: number): ServerGroupSpec => ({
  id: 'g1',
  policy,
  hostIds,
  maxServerPerHost,
});

describe('ServerGroupAntiAffinityFilter', () => {
  it.each<{ name: string; group?: ServerGroupSpec; members?: Record<string, number>; passed: boolean }>([
    { name: 'no group', group: undefined, members: undefined, passed: true },
    { name: 'host not in group', group: group('anti-affinity', ['h2']), members: undefined, passed: true },
    { name: 'host in group hostIds', group: group('anti-affinity', ['h1']), members: undefined, passed: false },
    { name: 'host counts a member', group: group('anti-affinity', []), members: { g1: 1 }, passed: false },
    { name: 'other group members do not count', group: group('anti-affinity', []), members: { g2: 3 }, passed: true },
    { name: 'max_server_per_host 2, one there', group: group('anti-affinity', ['h1'], 2), members: { g1: 1 }, passed: true },
    { name: 'max_server_per_host 2, two there', group: group('anti-affinity', ['h1'], 2), members: { g1: 2 }, passed: false },
    { name: 'soft-anti-affinity is not enforced', group: group('soft-anti-affinity', ['h1']), members: { g1: 5 }, passed: true },
  ])('$name -> $passed', ({ group: g, members, passed }) => {
    const host = makeHost({ hostId: 'h1', serverGroupMembers: members });
    const result = serverGroupAntiAffinityFilter.hostPasses(host, makeSpec({ serverGroup: g }));
    expect(result.passed).toBe(passed);
    if (!result.passed) expect(result.reason).toContain('g1');
  });
});
