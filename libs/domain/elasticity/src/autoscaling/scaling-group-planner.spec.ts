import type { GroupInstance } from './group-instance';
import { PlanInput, planScalingGroup } from './scaling-group-planner';
import { TARGET_TRACKING_DEFAULTS } from './target-tracking';

const inst = (id: string, at: number, patch: Partial<GroupInstance> = {}): GroupInstance => ({
  instanceId: id, availabilityZone: 'az1', launchedAtMs: at, lifecycle: 'in_service', healthy: true, protectedFromScaleIn: false, drainStartedMs: null, inFlightRequests: null, ...patch,
});
const rep = (v: number, n: number, capacity = 2) => Array.from({ length: n }, () => ({ value: v, capacity }));
const pts = (values: number[], capacity = 2) => values.map((value) => ({ value, capacity }));
const NOW = 10_000_000;

function input(patch: Partial<PlanInput> = {}): PlanInput {
  return {
    group: { minSize: 2, maxSize: 10, desiredCapacity: 2, cooldownSeconds: 300, warmupSeconds: 60, healthCheckGracePeriodSeconds: 60, drainTimeoutSeconds: 30, terminationPolicies: ['OldestInstance'] },
    instances: [inst('a', 0), inst('b', 1000)],
    nowMs: NOW,
    lastEvaluatedMs: NOW - 60_000,
    lastScalingMs: null,
    scheduledActions: [],
    policies: [{ name: 'cpu50', kind: 'target_tracking', targetTracking: { metric: 'average_cpu_percent', targetValue: 50, ...TARGET_TRACKING_DEFAULTS } }],
    metricHistory: { average_cpu_percent: rep(50, 20), requests_per_member: rep(100, 20) },
    alarmStates: {},
    ...patch,
  };
}

describe('planScalingGroup', () => {
  it('steady at target: nothing to do', () => {
    const p = planScalingGroup(input());
    expect(p).toMatchObject({ desiredCapacity: 2, launch: 0, drain: [], terminate: [], replace: [], scaledByPolicy: false });
  });

  it('hot: scales out proportionally and launches the difference', () => {
    const p = planScalingGroup(input({ metricHistory: { average_cpu_percent: pts([90, 95, 100]), requests_per_member: [] } }));
    expect(p).toMatchObject({ desiredCapacity: 4, launch: 2, scaledByPolicy: true });
    expect(p.activities[0]).toEqual({ cause: 'policy cpu50', fromCapacity: 2, toCapacity: 4 });
  });

  it('clamps to max_size', () => {
    const p = planScalingGroup(input({ metricHistory: { average_cpu_percent: rep(100, 3, 8), requests_per_member: [] }, group: { ...input().group, desiredCapacity: 8 }, instances: Array.from({ length: 8 }, (_, i) => inst(`i${i}`, i)) }));
    expect(p.desiredCapacity).toBe(10);
    expect(p.launch).toBe(2);
  });

  it('cold: scales in after 15 points, drains the oldest, never below min', () => {
    const instances = [inst('a', 0), inst('b', 1), inst('c', 2), inst('d', 3)];
    const p = planScalingGroup(input({ instances, group: { ...input().group, desiredCapacity: 4 }, metricHistory: { average_cpu_percent: rep(5, 15, 4), requests_per_member: [] } }));
    expect(p.desiredCapacity).toBe(2);
    expect(p.drain).toEqual(['a', 'b']);
    expect(p.launch).toBe(0);
  });

  it('holds scale-in during the cooldown but not scale-out', () => {
    const instances = [inst('a', 0), inst('b', 1), inst('c', 2), inst('d', 3)];
    const base = { instances, group: { ...input().group, desiredCapacity: 4 }, lastScalingMs: NOW - 100_000 };
    expect(planScalingGroup(input({ ...base, metricHistory: { average_cpu_percent: rep(5, 15, 4), requests_per_member: [] } })).desiredCapacity).toBe(4);
    expect(planScalingGroup(input({ ...base, metricHistory: { average_cpu_percent: rep(100, 3, 4), requests_per_member: [] } })).desiredCapacity).toBe(8);
  });

  it('with two policies, scales in only when both agree', () => {
    const policies = [
      ...input().policies,
      { name: 'rps', kind: 'target_tracking' as const, targetTracking: { metric: 'requests_per_member' as const, targetValue: 100, ...TARGET_TRACKING_DEFAULTS } },
    ];
    const instances = [inst('a', 0), inst('b', 1), inst('c', 2), inst('d', 3)];
    const base = { instances, policies, group: { ...input().group, desiredCapacity: 4 } };
    expect(planScalingGroup(input({ ...base, metricHistory: { average_cpu_percent: rep(5, 15, 4), requests_per_member: rep(100, 15, 4) } })).desiredCapacity).toBe(4);
    expect(planScalingGroup(input({ ...base, metricHistory: { average_cpu_percent: rep(5, 15, 4), requests_per_member: rep(40, 15, 4) } })).desiredCapacity).toBe(2);
    expect(planScalingGroup(input({ ...base, metricHistory: { average_cpu_percent: rep(5, 15, 4), requests_per_member: rep(300, 15, 4) } })).desiredCapacity).toBe(10);
  });

  it('step policy: alarm evaluated, state returned, capacity adjusted', () => {
    const policies = [{
      name: 'high', kind: 'step' as const, metric: 'average_cpu_percent' as const,
      step: { alarm: { threshold: 70, comparisonOperator: 'gt' as const, evaluationPeriods: 2, periodSeconds: 60 }, adjustmentType: 'ChangeInCapacity' as const, steps: [{ lowerBound: 0, adjustment: 2 }] },
    }];
    const p = planScalingGroup(input({ policies, metricHistory: { average_cpu_percent: pts([80, 85]), requests_per_member: [] } }));
    expect(p.alarmStates.high).toBe('alarm');
    expect(p.desiredCapacity).toBe(4);
    const cooling = planScalingGroup(input({ policies, lastScalingMs: NOW - 1000, metricHistory: { average_cpu_percent: pts([80, 85]), requests_per_member: [] } }));
    expect(cooling.desiredCapacity).toBe(2);
    expect(cooling.alarmStates.high).toBe('alarm');
  });

  it('scheduled action raises min and desired in its window only', () => {
    const scheduledActions = [{ name: 'peak', recurrence: { kind: 'once' as const, atMs: NOW - 30_000 }, minSize: 5 }];
    const p = planScalingGroup(input({ scheduledActions }));
    expect(p).toMatchObject({ minSize: 5, desiredCapacity: 5, launch: 3 });
    expect(p.activities[0].cause).toBe('scheduled action peak');
    expect(planScalingGroup(input({ scheduledActions, lastEvaluatedMs: NOW - 20_000 })).minSize).toBe(2);
  });

  it('replaces an unhealthy instance and launches a substitute', () => {
    const p = planScalingGroup(input({ instances: [inst('a', 0, { healthy: false }), inst('b', 1)] }));
    expect(p.replace).toEqual(['a']);
    expect(p.launch).toBe(1);
  });

  it('terminates drained instances; a draining one does not count towards capacity', () => {
    const instances = [inst('a', 0), inst('b', 1), inst('c', 2, { lifecycle: 'draining', drainStartedMs: NOW - 5000, inFlightRequests: 0 }), inst('d', 3, { lifecycle: 'draining', drainStartedMs: NOW - 5000, inFlightRequests: 7 })];
    const p = planScalingGroup(input({ instances }));
    expect(p.terminate).toEqual(['c']);
    expect(p.launch).toBe(0);
    expect(p.drain).toEqual([]);
  });

  it('respects scale-in protection', () => {
    const instances = [inst('a', 0, { protectedFromScaleIn: true }), inst('b', 1), inst('c', 2)];
    const p = planScalingGroup(input({ instances, group: { ...input().group, desiredCapacity: 3, minSize: 1 }, metricHistory: { average_cpu_percent: rep(1, 15, 3), requests_per_member: [] } }));
    expect(p.desiredCapacity).toBe(1);
    expect(p.drain).toEqual(['b', 'c']);
  });
});
