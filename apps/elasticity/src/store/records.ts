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

/** An Octavia load balancer: a VIP (`vipAddress`, a port on `vipSubnetId` of the owner's project). */
export interface LoadBalancerRecord extends Versioned {
  readonly name: string;
  readonly vipSubnetId: string;
  readonly vipAddress: string;
  readonly provisioningStatus: string;
  readonly createdAtMs: number;
}

/** An Octavia listener (protocol and `protocolPort` on the VIP), with the simulated traffic it is offered. */
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

/** A pool's health monitor (Octavia: delay, timeout, max_retries, max_retries_down). */
export interface HealthMonitorRecord extends HealthMonitorSpec {
  readonly id: string;
}

/** An Octavia pool: its `lbAlgorithm`, health monitor, and the CPU time each request costs a member (`cpuMsPerRequest`, ms). */
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

/** An Octavia member: a server's `address`:`protocolPort` in a pool, with its weight (Octavia: 0..256). */
export interface PoolMemberRecord extends Versioned {
  readonly poolId: string;
  readonly address: string;
  readonly protocolPort: number;
  readonly weight: number;
  readonly serverId: string;
  /** The member's statuses (the domain state machine's record). */
  readonly status: MemberStatus;
}

/** What a scaling group boots (AWS's launch template, Heat's server properties): ids in the owner's project. */
export interface LaunchTemplate {
  readonly flavorId: string;
  readonly imageId: string;
  readonly networkIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly userData: string;
  readonly keyName: string;
}

/** One server of a scaling group: its member, lifecycle (AWS's Pending, InService, draining) and health; times in ms since the epoch. */
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

/** An auto-scaling group (AWS Auto Scaling, Senlin's cluster): sizes, timings in seconds, its instances and the policies' state. */
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

/** A scaling policy of a group (target tracking, step scaling or a scheduled action; libs/domain/elasticity). */
export interface ScalingPolicyRecord extends Versioned {
  readonly scalingGroupId: string;
  readonly policy: ScalingPolicy;
}
