import { DEFAULT_AVAILABILITY_ZONE, hostAvailabilityZone } from './availability-zone';

describe('hostAvailabilityZone', () => {
  const aggregates = [
    { availabilityZone: '', hostIds: ['h1', 'h2'] },
    { availabilityZone: 'az-1', hostIds: ['h2', 'h3'] },
  ];

  it.each([
    ['an aggregate zone wins over the reported one', 'h2', 'rack-zone', 'az-1'],
    ['an aggregate without a zone does not place the host in one', 'h1', 'rack-zone', 'rack-zone'],
    ['no aggregate zone and none reported: the default zone', 'h1', '', DEFAULT_AVAILABILITY_ZONE],
    ['a host in no aggregate keeps its reported zone', 'h9', 'edge', 'edge'],
  ])('%s', (_why, hostId, reported, zone) => {
    expect(hostAvailabilityZone(hostId, reported, aggregates)).toBe(zone);
  });
});
