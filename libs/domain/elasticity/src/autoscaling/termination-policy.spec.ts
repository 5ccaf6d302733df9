import type { GroupInstance } from './group-instance';
import { DEFAULT_TERMINATION_POLICIES, parseTerminationPolicies, selectForTermination } from './termination-policy';

const inst = (id: string, az: string, at: number, patch: Partial<GroupInstance> = {}): GroupInstance => ({
  instanceId: id, availabilityZone: az, launchedAtMs: at, lifecycle: 'in_service', healthy: true, protectedFromScaleIn: false, drainStartedMs: null, inFlightRequests: null, ...patch,
});
const group = [inst('a', 'az1', 1), inst('b', 'az1', 2), inst('c', 'az1', 3), inst('d', 'az2', 4), inst('e', 'az2', 5)];

describe('selectForTermination', () => {
  it.each([
    [['OldestInstance'], 2, ['a', 'b']],
    [['NewestInstance'], 2, ['e', 'd']],
    [['BalancedAZ', 'OldestInstance'], 1, ['a']],
    [['BalancedAZ', 'NewestInstance'], 1, ['c']],
    [['BalancedAZ', 'NewestInstance'], 3, ['c', 'e', 'b']],
    [['BalancedAZ'], 1, ['a']],
  ] as const)('%j x %d -> %j', (policies, n, ids) => {
    expect(selectForTermination(group, n, policies)).toEqual(ids);
  });

  it('skips protected and inactive instances and may return fewer', () => {
    const g = [inst('a', 'az1', 1, { protectedFromScaleIn: true }), inst('b', 'az1', 2, { lifecycle: 'draining' }), inst('c', 'az1', 3)];
    expect(selectForTermination(g, 3, DEFAULT_TERMINATION_POLICIES)).toEqual(['c']);
  });
});

describe('parseTerminationPolicies', () => {
  it('defaults to BalancedAZ then OldestInstance', () => expect(parseTerminationPolicies([])).toEqual(['BalancedAZ', 'OldestInstance']));
  it('refuses unknown and repeated names', () => {
    expect(() => parseTerminationPolicies(['Random'])).toThrow('termination_policies');
    expect(() => parseTerminationPolicies(['OldestInstance', 'OldestInstance'])).toThrow('twice');
  });
});
