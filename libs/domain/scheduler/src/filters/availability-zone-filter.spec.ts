import { makeHost, makeSpec } from '../testing';
import { availabilityZoneFilter } from './availability-zone-filter';

describe('AvailabilityZoneFilter', () => {
  it.each([
    { hostAz: 'az1', wanted: undefined, passed: true },
    { hostAz: 'az1', wanted: '', passed: true },
    { hostAz: 'az1', wanted: 'az1', passed: true },
    { hostAz: 'az1', wanted: 'az2', passed: false },
  ])('host in $hostAz, request $wanted -> $passed', ({ hostAz, wanted, passed }) => {
    const result = availabilityZoneFilter.hostPasses(
      makeHost({ hostId: 'h1', availabilityZone: hostAz }),
      makeSpec({ availabilityZone: wanted }),
    );
    expect(result.passed).toBe(passed);
    if (!result.passed) expect(result.reason).toContain('"az2"');
  });
});
