import { makeHost, makeSpec } from '../testing';
import { computeFilter } from './compute-filter';

describe('ComputeFilter', () => {
  it.each([
    { enabled: true, up: true, passed: true, reason: undefined },
    { enabled: false, up: true, passed: false, reason: 'compute service is disabled' },
    { enabled: true, up: false, passed: false, reason: 'compute service is down (no recent heartbeat)' },
    { enabled: false, up: false, passed: false, reason: 'compute service is disabled' },
  ])('enabled=$enabled up=$up -> passed=$passed', ({ enabled, up, passed, reason }) => {
    const result = computeFilter.hostPasses(makeHost({ hostId: 'h1', enabled, up }), makeSpec());
    expect(result.passed).toBe(passed);
    if (!result.passed) expect(result.reason).toBe(reason);
  });
});
