import type {
  AlarmState,
  HealthMonitorSpec,
  InstanceLifecycle,
  LbAlgorithm,
  ListenerProtocol,
  MemberRecord as MemberStatus,
  MetricDatapoint,
  ScalingPolicy,
  TerminationPolicy,
  TrackedMetric,
  TrafficSource,
} from '@minicloud/domain-elasticity';

/** Fields every stored record has: `version` increases with each write (compare-and-set). */
export interface Versioned {
  readonly id: string;
  readonly projectId: string;
  readonly version: number;
}

export interface LoadBalancerRecord extends Versioned {
  readonly name: string;
  readonly vipSubnetId: string;
  readonly vipAddress: string;
  readonly provisioningStatus: string;
  readonly createdAtMs: number;
}

export interface ListenerRecord extends Versioned {
  readonly loadBalancerId: string;
  readonly name: string;
  readonly protocol: ListenerProtocol;
  readonly protocolPort: number;
  readonly defaultPoolId: string;
  readonly trafficSource: TrafficSource | null;
  /** When the traffic source was set (its time zero; a diurnal source reads the time of day instead). */
  readonly trafficSourceSetAtMs: number;
}

export interface HealthMonitorRecord extends HealthMonitorSpec {
  readonly id: string;
}

export interface PoolRecord extends Versioned {
  readonly loadBalancerId: string;
  readonly listenerId: string;
  readonly name: string;
  readonly lbAlgorithm: LbAlgorithm;
  readonly protocol: ListenerProtocol;
  readonly cpuMsPerRequest: number;
  readonly healthMonitor: HealthMonitorRecord | null;
  readonly provisioningStatus: string;
}

export interface PoolMemberRecord extends Versioned {
  readonly poolId: string;
  readonly address: string;
  readonly protocolPort: number;
  readonly weight: number;
  readonly serverId: string;
  /** The member's statuses (the domain state machine's record). */
  readonly status: MemberStatus;
}

export interface LaunchTemplate {
  readonly flavorId: string;
  readonly imageId: string;
  readonly networkIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly userData: string;
  readonly keyName: string;
}

export interface GroupInstanceRecord {
  readonly serverId: string;
  readonly memberId: string;
  readonly availabilityZone: string;
  readonly lifecycle: InstanceLifecycle;
  readonly healthy: boolean;
  readonly protectedFromScaleIn: boolean;
  readonly launchedAtMs: number;
  readonly drainStartedMs: number | null;
  /** The CPU demand (percent of its vCPUs) last set on the server's workload, or null. */
  readonly workloadPercent: number | null;
}

export interface ScalingGroupRecord extends Versioned {
  readonly name: string;
  readonly launchTemplate: LaunchTemplate;
  /** vCPUs of the template's flavor (read once at creation), for the CPU model. */
  readonly flavorVcpus: number;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly poolId: string;
  readonly memberProtocolPort: number;
  readonly cooldownSeconds: number;
  readonly warmupSeconds: number;
  readonly healthCheckGracePeriodSeconds: number;
  readonly drainTimeoutSeconds: number;
  readonly terminationPolicies: readonly TerminationPolicy[];
  readonly instances: readonly GroupInstanceRecord[];
  readonly lastScalingMs: number | null;
  readonly lastEvaluatedMs: number;
  readonly alarmStates: Readonly<Record<string, AlarmState>>;
  /** The latest datapoints per metric (at most HISTORY_POINTS). */
  readonly metricHistory: Readonly<Record<TrackedMetric, readonly MetricDatapoint[]>>;
  readonly createdAtMs: number;
  /** Set by DeleteScalingGroup: the reconcile removes every instance, then the record. */
  readonly deleting: boolean;
}

/** Datapoints kept per metric: AWS's longest default window (15 for scale-in) plus room. */
export const HISTORY_POINTS = 30;

export interface ScalingPolicyRecord extends Versioned {
  readonly scalingGroupId: string;
  readonly policy: ScalingPolicy;
}
