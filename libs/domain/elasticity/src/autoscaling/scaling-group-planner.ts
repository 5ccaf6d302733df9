import { clampCapacity, GroupSize } from './group-size';
import { inCooldown } from './cooldown';
import { GroupInstance, isActive } from './group-instance';
import { drainComplete, instancesToReplace } from './health-replacement';
import { dueScheduledActions, ScheduledAction } from './scheduled-action';
import { AlarmState, evaluateAlarm } from './threshold-alarm';
import { StepScalingPolicy, stepScalingDesired } from './step-scaling';
import { MetricDatapoint, TargetTrackingPolicy, targetTrackingDesired, TrackedMetric } from './target-tracking';
import { selectForTermination, TerminationPolicy } from './termination-policy';

/** A scaling group's settings beyond its size. Seconds throughout. */
export interface ScalingGroupSettings extends GroupSize {
  readonly cooldownSeconds: number;
  readonly warmupSeconds: number;
  readonly healthCheckGracePeriodSeconds: number;
  readonly drainTimeoutSeconds: number;
  readonly terminationPolicies: readonly TerminationPolicy[];
}

/** A named scaling policy attached to a group. Step policies alarm on one of the tracked metrics. */
export type ScalingPolicy =
  | { readonly name: string; readonly kind: 'target_tracking'; readonly targetTracking: TargetTrackingPolicy }
  | { readonly name: string; readonly kind: 'step'; readonly metric: TrackedMetric; readonly step: StepScalingPolicy };

/** Everything one evaluation reads. Metric histories hold one datapoint per evaluation period, oldest first. */
export interface PlanInput {
  readonly group: ScalingGroupSettings;
  readonly instances: readonly GroupInstance[];
  readonly nowMs: number;
  /** The previous evaluation's time: scheduled actions fire in (lastEvaluatedMs, nowMs]. */
  readonly lastEvaluatedMs: number;
  readonly lastScalingMs: number | null;
  readonly scheduledActions: readonly ScheduledAction[];
  readonly policies: readonly ScalingPolicy[];
  readonly metricHistory: Readonly<Record<TrackedMetric, readonly MetricDatapoint[]>>;
  /** Each step policy's alarm state after the previous evaluation (absent: 'insufficient data'). */
  readonly alarmStates: Readonly<Record<string, AlarmState>>;
}

/** One recorded change of the group, for the activity history and events. */
export interface ScalingActivity {
  readonly cause: string;
  readonly fromCapacity: number;
  readonly toCapacity: number;
}

/** What the reconcile should do now. */
export interface ScalingPlan {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  /** Servers to launch (new instances join as 'pending'). */
  readonly launch: number;
  /** Unhealthy instances to delete at once (they get no traffic already). */
  readonly replace: readonly string[];
  /** Instances to drain before removal (scale-in). */
  readonly drain: readonly string[];
  /** Drained instances whose servers may now be deleted. */
  readonly terminate: readonly string[];
  readonly alarmStates: Readonly<Record<string, AlarmState>>;
  readonly activities: readonly ScalingActivity[];
  /** True when a policy changed the desired capacity (starts a cooldown). */
  readonly scaledByPolicy: boolean;
}

function applySchedule(input: PlanInput, activities: ScalingActivity[]): GroupSize {
  let { minSize, maxSize, desiredCapacity } = input.group;
  for (const a of dueScheduledActions(input.scheduledActions, input.lastEvaluatedMs, input.nowMs)) {
    const before = desiredCapacity;
    minSize = a.minSize ?? minSize;
    maxSize = a.maxSize ?? maxSize;
    if (minSize > maxSize) maxSize = minSize;
    desiredCapacity = clampCapacity(a.desiredCapacity ?? desiredCapacity, minSize, maxSize);
    activities.push({ cause: `scheduled action ${a.name}`, fromCapacity: before, toCapacity: desiredCapacity });
  }
  return { minSize, maxSize, desiredCapacity };
}

function proposals(input: PlanInput, desired: number, alarmStates: Record<string, AlarmState>): { name: string; capacity: number }[] {
  const cooling = inCooldown(input.lastScalingMs, input.group.cooldownSeconds, input.nowMs);
  const out: { name: string; capacity: number }[] = [];
  for (const p of input.policies) {
    if (p.kind === 'target_tracking') {
      const want = targetTrackingDesired(p.targetTracking, input.metricHistory[p.targetTracking.metric], desired);
      // Scale-out is never held by the cooldown (warm-up already keeps it from overshooting); scale-in is.
      if (want !== null && !(cooling && want < desired)) out.push({ name: p.name, capacity: want });
    } else {
      const history = input.metricHistory[p.metric].map((d) => d.value);
      const state = evaluateAlarm(p.step.alarm, history, input.alarmStates[p.name] ?? 'insufficient data');
      alarmStates[p.name] = state;
      if (cooling) continue;
      const want = stepScalingDesired(p.step, state, history[history.length - 1] ?? 0, desired);
      if (want !== null) out.push({ name: p.name, capacity: want });
    }
  }
  return out;
}

/**
 * One evaluation of a scaling group, pure: scheduled actions, then policies, then the instances.
 * - Scheduled actions due since the last evaluation set min/max/desired, in firing order.
 * - Each policy proposes a capacity or nothing. As AWS does with several policies, the group takes
 *   the largest capacity: any policy asking for more scales out; it scales in only when every
 *   policy that has an opinion asks for less (a policy without one keeps the current size).
 *   The result is clamped to [min, max].
 * - Unhealthy instances past the grace period are replaced (deleted, and relaunched through the
 *   capacity count); active instances below desired are launched; above it, the termination
 *   policies pick unprotected instances to drain; drained instances are terminated.
 */
export function planScalingGroup(input: PlanInput): ScalingPlan {
  const activities: ScalingActivity[] = [];
  const size = applySchedule(input, activities);
  const alarmStates: Record<string, AlarmState> = { ...input.alarmStates };
  const props = proposals(input, size.desiredCapacity, alarmStates);
  let desired = size.desiredCapacity;
  let scaledByPolicy = false;
  if (props.length > 0) {
    const voted = input.policies.map((p) => props.find((x) => x.name === p.name)?.capacity ?? size.desiredCapacity);
    const want = clampCapacity(Math.max(...voted), size.minSize, size.maxSize);
    if (want !== desired) {
      const by = props.filter((x) => clampCapacity(x.capacity, size.minSize, size.maxSize) === want).map((x) => x.name);
      activities.push({ cause: `policy ${by.join(', ')}`, fromCapacity: desired, toCapacity: want });
      desired = want;
      scaledByPolicy = true;
    }
  }
  desired = clampCapacity(desired, size.minSize, size.maxSize);

  const replace = instancesToReplace(input.instances, input.nowMs, input.group.healthCheckGracePeriodSeconds);
  const active = input.instances.filter((i) => isActive(i) && !replace.includes(i.instanceId));
  let launch = 0;
  let drain: string[] = [];
  if (active.length < desired) launch = desired - active.length;
  else if (active.length > desired) drain = selectForTermination(active, active.length - desired, input.group.terminationPolicies);
  if (replace.length > 0) activities.push({ cause: `health check replacement of ${replace.join(', ')}`, fromCapacity: desired, toCapacity: desired });
  const terminate = input.instances.filter((i) => drainComplete(i, input.nowMs, input.group.drainTimeoutSeconds)).map((i) => i.instanceId);
  return { ...size, desiredCapacity: desired, launch, replace, drain, terminate, alarmStates, activities, scaledByPolicy };
}
