import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { TrafficSource } from '@minicloud/domain-elasticity';
import type { elasticity } from '@minicloud/proto';
import type { ListenerRecord, LoadBalancerRecord, PoolMemberRecord, PoolRecord, ScalingGroupRecord, ScalingPolicyRecord } from '../store/records';

// Record -> elasticity.v1 message mapping (the service's one place for it); times are ms since the
// epoch in records and Timestamps on the wire.
const ts = (ms: number | null) => (ms === null ? undefined : new Date(ms));

/** The wire form of a load balancer (operating_status is ONLINE: the simulated VIP never fails). */
export function loadBalancerToProto(r: LoadBalancerRecord): elasticity.LoadBalancer {
  return { id: r.id, projectId: r.projectId, name: r.name, vipSubnetId: r.vipSubnetId, vipAddress: r.vipAddress, provisioningStatus: r.provisioningStatus, operatingStatus: 'ONLINE', createdAt: ts(r.createdAtMs) };
}

/** The wire form of a listener's traffic source, undefined when none is set; fields of other kinds are zero. */
export function trafficSourceToProto(s: TrafficSource | null): elasticity.TrafficSource | undefined {
  if (!s) return undefined;
  const base: elasticity.TrafficSource = { kind: s.kind, rps: 0, initialRps: 0, steps: [], meanRps: 0, amplitudeRps: 0, periodSeconds: 0, phaseSeconds: 0, harmonics: [], intervalSeconds: 0, traceRps: [], scale: 0 };
  switch (s.kind) {
    case 'constant':
      return { ...base, rps: s.rps };
    case 'step':
      return { ...base, initialRps: s.initialRps, steps: s.steps.map((x) => ({ atSeconds: x.atSeconds, rps: x.rps })) };
    case 'sine':
      return { ...base, meanRps: s.meanRps, amplitudeRps: s.amplitudeRps, periodSeconds: s.periodSeconds, phaseSeconds: s.phaseSeconds ?? 0 };
    case 'diurnal':
      return { ...base, meanRps: s.meanRps, harmonics: s.harmonics.map((h) => ({ amplitudeRatio: h.amplitudeRatio, peakHour: h.peakHour })) };
    case 'trace':
      return { ...base, intervalSeconds: s.intervalSeconds, traceRps: [...s.rps], scale: s.scale ?? 1 };
  }
}

/** @throws InvalidArgumentError('traffic_source.kind') for an unknown kind or a missing source */
export function trafficSourceFromProto(p: elasticity.TrafficSource | undefined): TrafficSource {
  switch (p?.kind) {
    case 'constant':
      return { kind: 'constant', rps: p.rps };
    case 'step':
      return { kind: 'step', initialRps: p.initialRps, steps: p.steps.map((x) => ({ atSeconds: x.atSeconds, rps: x.rps })) };
    case 'sine':
      return { kind: 'sine', meanRps: p.meanRps, amplitudeRps: p.amplitudeRps, periodSeconds: p.periodSeconds, phaseSeconds: p.phaseSeconds };
    case 'diurnal':
      return { kind: 'diurnal', meanRps: p.meanRps, harmonics: p.harmonics.map((h) => ({ amplitudeRatio: h.amplitudeRatio, peakHour: h.peakHour })) };
    case 'trace':
      return { kind: 'trace', intervalSeconds: p.intervalSeconds, rps: [...p.traceRps], scale: p.scale || 1 };
    default:
      throw new InvalidArgumentError('traffic_source.kind', 'must be constant, step, sine, diurnal or trace');
  }
}

/** The wire form of a listener. */
export function listenerToProto(r: ListenerRecord): elasticity.Listener {
  return { id: r.id, projectId: r.projectId, loadBalancerId: r.loadBalancerId, name: r.name, protocol: r.protocol, protocolPort: r.protocolPort, defaultPoolId: r.defaultPoolId, trafficSource: trafficSourceToProto(r.trafficSource) };
}

/** The wire form of a pool, with its health monitor. */
export function poolToProto(r: PoolRecord): elasticity.Pool {
  const hm = r.healthMonitor;
  return {
    id: r.id, projectId: r.projectId, loadBalancerId: r.loadBalancerId, listenerId: r.listenerId, name: r.name, lbAlgorithm: r.lbAlgorithm, protocol: r.protocol, cpuMsPerRequest: r.cpuMsPerRequest,
    healthMonitor: hm ? { id: hm.id, poolId: r.id, type: hm.type, delaySeconds: hm.delaySeconds, timeoutSeconds: hm.timeoutSeconds, maxRetries: hm.maxRetries, maxRetriesDown: hm.maxRetriesDown } : undefined,
    provisioningStatus: r.provisioningStatus, operatingStatus: 'ONLINE',
  };
}

/** The wire form of a member, with its operating and provisioning status. */
export function memberToProto(r: PoolMemberRecord): elasticity.Member {
  return { id: r.id, projectId: r.projectId, poolId: r.poolId, address: r.address, protocolPort: r.protocolPort, weight: r.weight, serverId: r.serverId, provisioningStatus: r.status.provisioningStatus, operatingStatus: r.status.operatingStatus, adminStateUp: r.status.adminStateUp };
}

/** The wire form of a scaling group, with its instances. */
export function scalingGroupToProto(r: ScalingGroupRecord): elasticity.ScalingGroup {
  return {
    id: r.id, projectId: r.projectId, name: r.name,
    launchTemplate: { ...r.launchTemplate, networkIds: [...r.launchTemplate.networkIds], securityGroupIds: [...r.launchTemplate.securityGroupIds] },
    minSize: r.minSize, maxSize: r.maxSize, desiredCapacity: r.desiredCapacity, poolId: r.poolId, memberProtocolPort: r.memberProtocolPort,
    cooldownSeconds: r.cooldownSeconds, warmupSeconds: r.warmupSeconds, healthCheckGracePeriodSeconds: r.healthCheckGracePeriodSeconds, drainTimeoutSeconds: r.drainTimeoutSeconds,
    terminationPolicies: [...r.terminationPolicies],
    instances: r.instances.map((i) => ({ serverId: i.serverId, memberId: i.memberId, availabilityZone: i.availabilityZone, lifecycle: i.lifecycle, healthy: i.healthy, protectedFromScaleIn: i.protectedFromScaleIn, launchedAt: ts(i.launchedAtMs) })),
    createdAt: ts(r.createdAtMs),
  };
}

/** The wire form of a scaling policy. */
export function scalingPolicyToProto(r: ScalingPolicyRecord): elasticity.ScalingPolicy {
  const p = r.policy;
  const base = { id: r.id, projectId: r.projectId, scalingGroupId: r.scalingGroupId, name: p.name, kind: p.kind, metric: '', targetValue: 0, disableScaleIn: false, comparisonOperator: '', threshold: 0, evaluationPeriods: 0, adjustmentType: '', steps: [], minAdjustmentMagnitude: 0 };
  if (p.kind === 'target_tracking') return { ...base, metric: p.targetTracking.metric, targetValue: p.targetTracking.targetValue, disableScaleIn: p.targetTracking.disableScaleIn };
  return {
    ...base, metric: p.metric, comparisonOperator: p.step.alarm.comparisonOperator, threshold: p.step.alarm.threshold, evaluationPeriods: p.step.alarm.evaluationPeriods,
    adjustmentType: p.step.adjustmentType, steps: p.step.steps.map((s) => ({ lowerBound: s.lowerBound, upperBound: s.upperBound, adjustment: s.adjustment })), minAdjustmentMagnitude: p.step.minAdjustmentMagnitude ?? 0,
  };
}
