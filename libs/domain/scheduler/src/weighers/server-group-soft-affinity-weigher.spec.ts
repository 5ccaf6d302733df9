import { ServerGroupSpec } from '../request-spec';
import { makeHost, makeSpec } from '../testing';
import { createServerGroupSoftAffinityWeigher } from './server-group-soft-affinity-weigher';

const group = (policy: ServerGroupSpec['policy'], hostIds: string[] = []): ServerGroupSpec => ({ id: 'g1', policy, hostIds });

describe('ServerGroupSoftAffinityWeigher', () => {
  it.each([
    { name: 'no group', g: undefined, members: { g1: 3 }, raw: 0 },
    { name: 'soft-affinity counts members', g: group('soft-affinity'), members: { g1: 3 }, raw: 3 },
    { name: 'host listed in hostIds counts at least 1', g: group('soft-affinity', ['h1']), members: undefined, raw: 1 },
    { name: 'other policy', g: group('soft-anti-affinity'), members: { g1: 3 }, raw: 0 },
  ])('$name -> $raw', ({ g, members, raw }) => {
    const host = makeHost({ hostId: 'h1', serverGroupMembers: members });
    expect(createServerGroupSoftAffinityWeigher().rawWeight(host, makeSpec({ serverGroup: g }))).toBe(raw);
  });
});
