import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  parseTerminationPolicies,
  TARGET_TRACKING_DEFAULTS,
  validateAlarm,
  validateGroupSize,
  validateStepScaling,
  validateTargetTracking,
  type ScalingPolicy,
  type StepAdjustment,
  type AdjustmentType,
  type ComparisonOperator,
  type TrackedMetric,
} from '@minicloud/domain-elasticity';
import type { CloudPort } from './cloud-port';
import type { ModuleDeps } from './store/deps';
import type { Caller, RecordStore } from './store/record-store';
import type { LaunchTemplate, PoolRecord, ScalingGroupRecord, ScalingPolicyRecord } from './store/records';

/** Most policies one group carries. */
export const MAX_POLICIES_PER_GROUP = 20;

function seconds(field: string, v: number | undefined, dflt: number, max = 86_400): number {
  const s = v ?? dflt;
  if (!Number.isInteger(s) || s < 0 || s > max) throw new InvalidArgumentError(field, `must be an integer in 0..${max} seconds, got ${s}`);
  return s;
}

/** The input of CreateScalingGroup, in domain terms. */
export interface CreateGroupInput {
  name: string;
  launchTemplate: LaunchTemplate;
  minSize: number;
  maxSize: number;
  desiredCapacity?: number;
  poolId: string;
  memberProtocolPort: number;
  cooldownSeconds?: number;
  warmupSeconds?: number;
  healthCheckGracePeriodSeconds?: number;
  drainTimeoutSeconds?: number;
  terminationPolicies: string[];
}

/** The input of CreateScalingPolicy, in domain terms (wire fields; checked here). */
export interface CreatePolicyInput {
  name: string;
  kind: string;
  metric: string;
  targetValue: number;
  disableScaleIn: boolean;
  comparisonOperator: string;
  threshold: number;
  evaluationPeriods: number;
  adjustmentType: string;
  steps: StepAdjustment[];
  minAdjustmentMagnitude: number;
}

/**
 * Scaling groups and their policies (AWS Auto Scaling, Senlin). Every input is checked before
 * anything is stored: sizes (min <= desired <= max), the pool (the caller's), the flavor (one the
 * caller may use, read with the caller's token), the termination policies and the timers.
 */
export class ScalingGroups {
  constructor(
    private readonly d: ModuleDeps & {
      groups: RecordStore<ScalingGroupRecord>;
      policies: RecordStore<ScalingPolicyRecord>;
      pools: RecordStore<PoolRecord>;
      cloud: CloudPort;
      /** Called with a group id whenever it should be reconciled soon. */
      enqueue: (groupId: string) => void;
    },
  ) {}

  /**
   * @throws InvalidArgumentError naming the field (min_size, desired_capacity, launch_template.flavor_id, ...),
   *   NotFoundError('pool' | 'flavor'), FailedPreconditionError('pool_has_group')
   */
  async create(caller: Caller, input: CreateGroupInput): Promise<ScalingGroupRecord> {
    if (!input.name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
    const size = { minSize: input.minSize, maxSize: input.maxSize, desiredCapacity: input.desiredCapacity ?? input.minSize };
    validateGroupSize(size);
    const t = input.launchTemplate;
    if (!t.flavorId) throw new InvalidArgumentError('launch_template.flavor_id', 'must not be empty');
    if (!t.imageId) throw new InvalidArgumentError('launch_template.image_id', 'must not be empty');
    if (t.networkIds.length === 0) throw new InvalidArgumentError('launch_template.network_ids', 'needs at least one network');
    if (t.networkIds.length > 16 || t.securityGroupIds.length > 16) throw new InvalidArgumentError('launch_template', 'at most 16 networks and 16 security groups');
    if (!Number.isInteger(input.memberProtocolPort) || input.memberProtocolPort < 1 || input.memberProtocolPort > 65535) {
      throw new InvalidArgumentError('member_protocol_port', `must be in 1..65535, got ${input.memberProtocolPort}`);
    }
    const terminationPolicies = parseTerminationPolicies(input.terminationPolicies);
    const timers = {
      cooldownSeconds: seconds('cooldown_seconds', input.cooldownSeconds, 300),
      warmupSeconds: seconds('warmup_seconds', input.warmupSeconds, 60),
      healthCheckGracePeriodSeconds: seconds('health_check_grace_period_seconds', input.healthCheckGracePeriodSeconds, 120),
      drainTimeoutSeconds: seconds('drain_timeout_seconds', input.drainTimeoutSeconds, 30, 3600),
    };
    const pool = await this.d.pools.get(caller, input.poolId);
    if ((await this.d.groups.all((g) => g.poolId === pool.id)).length) throw new FailedPreconditionError(`pool ${pool.id} already serves a scaling group`, 'pool_has_group');
    const flavor = await this.d.cloud.getFlavor(caller.token, t.flavorId);
    const now = this.d.clock.nowMs();
    const rec = await this.d.groups.create({
      id: this.d.groups.newId(),
      projectId: pool.projectId,
      name: input.name.trim(),
      launchTemplate: { ...t, flavorId: flavor.id },
      flavorVcpus: flavor.vcpus,
      ...size,
      poolId: pool.id,
      memberProtocolPort: input.memberProtocolPort,
      ...timers,
      terminationPolicies,
      instances: [],
      lastScalingMs: null,
      lastEvaluatedMs: now,
      alarmStates: {},
      metricHistory: { average_cpu_percent: [], requests_per_member: [] },
      createdAtMs: now,
      deleting: false,
    });
    await this.d.publish({ entity: 'scaling_group', action: 'created', resourceId: rec.id, projectId: rec.projectId });
    this.d.enqueue(rec.id);
    return rec;
  }

  get(caller: Caller, id: string) {
    return this.d.groups.get(caller, id);
  }

  list(caller: Caller) {
    return this.d.groups.list(caller);
  }

  /**
   * Changes the size (checked as a whole against the current values) and scale-in protection.
   * @throws NotFoundError('scaling_group' | 'server'), InvalidArgumentError naming the size field
   */
  async update(caller: Caller, id: string, change: { minSize?: number; maxSize?: number; desiredCapacity?: number; protect: string[]; unprotect: string[] }): Promise<ScalingGroupRecord> {
    await this.d.groups.get(caller, id);
    const rec = await this.d.groups.update(id, (cur) => {
      const minSize = change.minSize ?? cur.minSize;
      const maxSize = change.maxSize ?? cur.maxSize;
      let desiredCapacity = change.desiredCapacity ?? cur.desiredCapacity;
      // A new min or max alone drags desired into range (AWS does the same).
      if (change.desiredCapacity === undefined) desiredCapacity = Math.min(maxSize, Math.max(minSize, desiredCapacity));
      validateGroupSize({ minSize, maxSize, desiredCapacity });
      for (const sid of [...change.protect, ...change.unprotect]) {
        if (!cur.instances.some((i) => i.serverId === sid)) throw new NotFoundError('server', sid, `not an instance of scaling group ${id}`);
      }
      const instances = cur.instances.map((i) =>
        change.protect.includes(i.serverId) ? { ...i, protectedFromScaleIn: true } : change.unprotect.includes(i.serverId) ? { ...i, protectedFromScaleIn: false } : i,
      );
      return { ...cur, minSize, maxSize, desiredCapacity, instances };
    });
    await this.d.publish({ entity: 'scaling_group', action: 'updated', resourceId: id, projectId: rec.projectId });
    this.d.enqueue(id);
    return rec;
  }

  /**
   * Deletes a group: its size drops to 0 and the reconcile drains and deletes its servers; the record
   * goes when none is left (Senlin's cluster delete). Its policies go at once.
   * @throws NotFoundError
   */
  async delete(caller: Caller, id: string): Promise<void> {
    const g = await this.d.groups.get(caller, id);
    for (const p of await this.d.policies.all((x) => x.scalingGroupId === id)) await this.d.policies.remove(p);
    if (g.instances.length === 0) {
      await this.d.groups.remove(g);
    } else {
      await this.d.groups.update(id, (cur) => ({ ...cur, minSize: 0, maxSize: 0, desiredCapacity: 0, deleting: true }));
      this.d.enqueue(id);
    }
    await this.d.publish({ entity: 'scaling_group', action: 'deleted', resourceId: id, projectId: g.projectId });
  }

  /**
   * @throws NotFoundError('scaling_group'), InvalidArgumentError naming the policy's field,
   *   FailedPreconditionError('too_many_policies')
   */
  async createPolicy(caller: Caller, groupId: string, input: CreatePolicyInput): Promise<ScalingPolicyRecord> {
    const g = await this.d.groups.get(caller, groupId);
    if (!input.name.trim()) throw new InvalidArgumentError('policy.name', 'must not be empty');
    const existing = await this.d.policies.all((p) => p.scalingGroupId === groupId);
    if (existing.some((p) => p.policy.name === input.name.trim())) throw new InvalidArgumentError('policy.name', `"${input.name}" is taken in this group`);
    if (existing.length >= MAX_POLICIES_PER_GROUP) throw new FailedPreconditionError(`scaling group ${groupId} has ${MAX_POLICIES_PER_GROUP} policies`, 'too_many_policies');
    const metric = input.metric as TrackedMetric;
    let policy: ScalingPolicy;
    if (input.kind === 'target_tracking') {
      const targetTracking = { ...TARGET_TRACKING_DEFAULTS, metric, targetValue: input.targetValue, disableScaleIn: input.disableScaleIn };
      validateTargetTracking(targetTracking);
      policy = { name: input.name.trim(), kind: 'target_tracking', targetTracking };
    } else if (input.kind === 'step') {
      if (metric !== 'average_cpu_percent' && metric !== 'requests_per_member') throw new InvalidArgumentError('policy.metric', 'must be average_cpu_percent or requests_per_member');
      if (input.steps.length > 20) throw new InvalidArgumentError('policy.steps', 'at most 20 steps');
      const alarm = { threshold: input.threshold, comparisonOperator: input.comparisonOperator as ComparisonOperator, evaluationPeriods: input.evaluationPeriods, periodSeconds: 60 };
      validateAlarm(alarm);
      if (!['ChangeInCapacity', 'PercentChangeInCapacity', 'ExactCapacity'].includes(input.adjustmentType)) {
        throw new InvalidArgumentError('policy.adjustment_type', 'must be ChangeInCapacity, PercentChangeInCapacity or ExactCapacity');
      }
      const step = { alarm, adjustmentType: input.adjustmentType as AdjustmentType, steps: input.steps, minAdjustmentMagnitude: input.minAdjustmentMagnitude || undefined };
      validateStepScaling(step);
      policy = { name: input.name.trim(), kind: 'step', metric, step };
    } else {
      throw new InvalidArgumentError('policy.kind', 'must be target_tracking or step');
    }
    const rec = await this.d.policies.create({ id: this.d.policies.newId(), projectId: g.projectId, scalingGroupId: groupId, policy });
    await this.d.publish({ entity: 'scaling_policy', action: 'created', resourceId: rec.id, projectId: rec.projectId });
    this.d.enqueue(groupId);
    return rec;
  }

  async listPolicies(caller: Caller, groupId: string): Promise<ScalingPolicyRecord[]> {
    await this.d.groups.get(caller, groupId);
    return this.d.policies.list(caller, (p) => p.scalingGroupId === groupId);
  }

  async deletePolicy(caller: Caller, id: string): Promise<void> {
    const p = await this.d.policies.get(caller, id);
    await this.d.policies.remove(p);
    await this.d.publish({ entity: 'scaling_policy', action: 'deleted', resourceId: id, projectId: p.projectId });
  }
}
