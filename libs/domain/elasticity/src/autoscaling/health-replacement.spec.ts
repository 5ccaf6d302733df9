import type { GroupInstance } from './group-instance';
import { drainComplete, instancesToReplace } from './health-replacement';

const inst = (id: string, patch: Partial<GroupInstance> = {}): GroupInstance => ({
  instanceId: id, availabilityZone: 'az1', launchedAtMs: 0, lifecycle: 'in_service', healthy: true, protectedFromScaleIn: false, drainStartedMs: null, inFlightRequests: null, ...patch,
});

describe('instancesToReplace', () => {
  it('replaces unhealthy instances past the grace period, protected or not', () => {
    const g = [inst('ok'), inst('sick', { healthy: false }), inst('young', { healthy: false, launchedAtMs: 50_000 }), inst('prot', { healthy: false, protectedFromScaleIn: true }), inst('gone', { healthy: false, lifecycle: 'terminating' })];
    expect(instancesToReplace(g, 60_000, 30)).toEqual(['sick', 'prot']);
  });
});

describe('drainComplete', () => {
  it.each<[Partial<GroupInstance>, number, boolean]>([
    [{ lifecycle: 'draining', drainStartedMs: 0, inFlightRequests: 3 }, 10_000, false],
    [{ lifecycle: 'draining', drainStartedMs: 0, inFlightRequests: 0.2 }, 1_000, true],
    [{ lifecycle: 'draining', drainStartedMs: 0, inFlightRequests: null }, 29_999, false],
    [{ lifecycle: 'draining', drainStartedMs: 0, inFlightRequests: 4 }, 30_000, true],
    [{ lifecycle: 'in_service', drainStartedMs: null, inFlightRequests: 0 }, 99_000, false],
  ])('%o at %d -> %s', (patch, now, expected) => {
    expect(drainComplete(inst('x', patch), now, 30)).toBe(expected);
  });
});
