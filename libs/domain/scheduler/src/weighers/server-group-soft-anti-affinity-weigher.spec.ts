import { weighHosts } from '../host-weigher';
import { ServerGroupSpec } from '../request-spec';
import { makeHost, makeSpec } from '../testing';
import { createServerGroupSoftAntiAffinityWeigher } from './server-group-soft-anti-affinity-weigher';

const group = (policy: ServerGroupSpec['policy']): ServerGroupSpec => ({ id: 'g1', policy, hostIds: [] });

describe('ServerGroupSoftAntiAffinityWeigher', () => {
  it.each([
    { name: 'no group', g: undefined, raw: 0 },
    { name: 'soft-anti-affinity', g: group('soft-anti-affinity'), raw: -2 },
    { name: 'hard anti-affinity is the filter’s job', g: group('anti-affinity'), raw: 0 },
  ])('$name -> $raw', ({ g, raw }) => {
    const host = makeHost({ hostId: 'h1', serverGroupMembers: { g1: 2 } });
    expect(createServerGroupSoftAntiAffinityWeigher().rawWeight(host, makeSpec({ serverGroup: g })) + 0).toBe(raw);
  });

  it('prefers the host with fewest members', () => {
    const hosts = [makeHost({ hostId: 'crowded', serverGroupMembers: { g1: 2 } }), makeHost({ hostId: 'empty' })];
    const ranked = weighHosts(hosts, [createServerGroupSoftAntiAffinityWeigher()], makeSpec({ serverGroup: group('soft-anti-affinity') }));
    expect(ranked[0].host.hostId).toBe('empty');
  });
});
