import { InvalidArgumentError } from '@minicloud/domain-errors';
import { seededRng } from '@minicloud/domain-clock';
import { GroupInstance } from '../autoscaling/group-instance';
import { AlarmState } from '../autoscaling/threshold-alarm';
import { MetricDatapoint, TrackedMetric } from '../autoscaling/target-tracking';
import { ScalingGroupSettings, ScalingPolicy, planScalingGroup } from '../autoscaling/scaling-group-planner';
import { ScheduledAction } from '../autoscaling/scheduled-action';
import { isWarmingUp } from '../autoscaling/cooldown';
import { memberCpuDemandPercent, memberQueueServer } from '../loadbalancer/cpu-demand';
import { applyMemberCommand, MemberRecord, newMember, receivesTraffic } from '../loadbalancer/member-state-machine';
import { poolResponsePercentile, queueMetrics, servedRps } from '../loadbalancer/queueing';
import { simulatedClientAddresses, splitTraffic } from '../loadbalancer/traffic-split';
import { HealthMonitorSpec, LbAlgorithm } from '../loadbalancer/vocabulary';
import { offeredRps, TrafficSource } from '../traffic/traffic-source';

/**
 * A load balancer and scaling group driven in virtual time through the same policy code the
 * elasticity service runs. Seconds throughout; `tickSeconds` is the traffic model's resolution,
 * `evaluationPeriodSeconds` the metric period (one datapoint per policy per period, as the service).
 */
export interface ElasticityScenario {
  readonly source: TrafficSource;
  readonly durationSeconds: number;
  readonly tickSeconds: number;
  readonly evaluationPeriodSeconds: number;
  readonly algorithm: LbAlgorithm;
  readonly cpuMsPerRequest: number;
  readonly vcpus: number;
  readonly baselineCpuPercent: number;
  /** Build + boot time of a new server before it can pass a health check. */
  readonly bootSeconds: number;
  readonly healthMonitor: HealthMonitorSpec;
  readonly group: ScalingGroupSettings;
  readonly policies: readonly ScalingPolicy[];
  readonly scheduledActions: readonly ScheduledAction[];
  readonly availabilityZones: readonly string[];
  /** Chaos: at `atSeconds`, the server of the in-service instance with this index (oldest first) dies. */
  readonly failures: readonly { readonly atSeconds: number; readonly instanceIndex: number }[];
  readonly clientCount: number;
  readonly seed: number;
}

/** The state at the end of one evaluation period. */
export interface ScenarioSample {
  readonly tSeconds: number;
  readonly offeredRps: number;
  readonly servedRps: number;
  /** Offered beyond the members' capacity, or with no member to take it (503s / timeouts). */
  readonly droppedRps: number;
  /** Sent to a member whose server was dead but not yet detected by the monitor (failed requests). */
  readonly failedRps: number;
  readonly desiredCapacity: number;
  readonly inService: number;
  readonly averageCpuPercent: number;
  readonly p50Seconds: number;
  readonly p99Seconds: number;
}

/** A scaling activity or chaos event with its time. */
export interface ScenarioEvent {
  readonly tSeconds: number;
  readonly description: string;
}

/** What a virtual-time run gives: one sample per tick, the scaling and health events, and the drain checks. */
export interface ScenarioResult {
  readonly samples: readonly ScenarioSample[];
  readonly events: readonly ScenarioEvent[];
  /** Requests routed to a member after its drain began or its server was deleted: must stay 0. */
  readonly requestsToRemovedMembers: number;
  /** Requests still in flight when a drained member's server was deleted (cut by the drain timeout). */
  readonly requestsCutAtTermination: number;
}

interface SimInstance {
  id: string;
  az: string;
  launchedAtMs: number;
  lifecycle: GroupInstance['lifecycle'];
  member: MemberRecord;
  dead: boolean;
  lastProbeMs: number;
  drainStartedMs: number | null;
  inFlightAtDrain: number;
  responseAtDrain: number;
  concurrency: number;
}

/** @throws InvalidArgumentError naming `tick_seconds` / `evaluation_period_seconds` / `duration_seconds` when inconsistent. */
function check(s: ElasticityScenario): void {
  if (!(s.tickSeconds > 0)) throw new InvalidArgumentError('tick_seconds', 'must be > 0');
  if (!(s.evaluationPeriodSeconds >= s.tickSeconds) || s.evaluationPeriodSeconds % s.tickSeconds !== 0) {
    throw new InvalidArgumentError('evaluation_period_seconds', 'must be a multiple of tick_seconds');
  }
  if (!(s.durationSeconds > 0)) throw new InvalidArgumentError('duration_seconds', 'must be > 0');
  if (s.availabilityZones.length === 0) throw new InvalidArgumentError('availability_zones', 'needs at least one zone');
}

/**
 * Runs the scenario. Each tick: the source's offered load is split among the members that receive
 * traffic, each member's CPU and queue follow; the health monitor probes each member every
 * `delay` (a probe passes when the server is booted and alive). Each evaluation period: the
 * group's metrics (average CPU and requests per member over in-service instances past warm-up)
 * feed `planScalingGroup`, and its plan is carried out: launches, replacements, drains, terminations.
 * Deterministic for a given scenario (the seed drives only the simulated client addresses).
 */
export function runElasticityScenario(s: ElasticityScenario): ScenarioResult {
  check(s);
  const clients = simulatedClientAddresses(s.clientCount, seededRng(s.seed));
  const server = memberQueueServer(s.vcpus, s.cpuMsPerRequest);
  const hm = s.healthMonitor;
  let nextId = 0;
  let instances: SimInstance[] = [];
  let desired = s.group.desiredCapacity;
  let minSize = s.group.minSize;
  let maxSize = s.group.maxSize;
  let lastScalingMs: number | null = null;
  let lastEvaluatedMs = -1;
  let alarmStates: Record<string, AlarmState> = {};
  const history: Record<TrackedMetric, MetricDatapoint[]> = { average_cpu_percent: [], requests_per_member: [] };
  const samples: ScenarioSample[] = [];
  const events: ScenarioEvent[] = [];
  let requestsToRemoved = 0;
  let cutAtTermination = 0;
  const failures = [...s.failures].sort((a, b) => a.atSeconds - b.atSeconds);

  const launch = (nowMs: number) => {
    const id = `i-${String(++nextId).padStart(3, '0')}`;
    const zoneCounts = s.availabilityZones.map((z) => instances.filter((i) => i.az === z && (i.lifecycle === 'pending' || i.lifecycle === 'in_service')).length);
    const az = s.availabilityZones[zoneCounts.indexOf(Math.min(...zoneCounts))];
    const member = applyMemberCommand(newMember(id, true), { type: 'provisioned' });
    instances.push({ id, az, launchedAtMs: nowMs, lifecycle: 'pending', member, dead: false, lastProbeMs: nowMs, drainStartedMs: null, inFlightAtDrain: 0, responseAtDrain: 0, concurrency: 0 });
  };
  // The group starts at its desired size, in service and healthy.
  for (let i = 0; i < desired; i++) {
    launch(-(s.bootSeconds + s.group.warmupSeconds) * 1000);
    const inst = instances[instances.length - 1];
    for (let k = 0; k < hm.maxRetries; k++) inst.member = applyMemberCommand(inst.member, { type: 'health_check', passed: true, maxRetries: hm.maxRetries, maxRetriesDown: hm.maxRetriesDown });
    inst.lifecycle = 'in_service';
  }

  let perEval = { offered: 0, served: 0, dropped: 0, failed: 0, cpu: new Map<string, number>(), rps: new Map<string, number>(), ticks: 0 };
  let lastShares: { server: typeof server; rps: number }[] = [];

  for (let t = 0; t <= s.durationSeconds; t += s.tickSeconds) {
    const nowMs = t * 1000;
    while (failures.length && failures[0].atSeconds <= t) {
      const f = failures.shift()!;
      const live = instances.filter((i) => i.lifecycle === 'in_service' && !i.dead).sort((a, b) => a.launchedAtMs - b.launchedAtMs);
      const victim = live[f.instanceIndex];
      if (victim) {
        victim.dead = true;
        events.push({ tSeconds: t, description: `chaos: server of ${victim.id} killed` });
      }
    }
    // Health monitor: one probe per member every `delay`.
    for (const i of instances) {
      if (nowMs - i.lastProbeMs < hm.delaySeconds * 1000) continue;
      i.lastProbeMs = nowMs;
      const passed = !i.dead && nowMs - i.launchedAtMs >= s.bootSeconds * 1000;
      const before = i.member.operatingStatus;
      i.member = applyMemberCommand(i.member, { type: 'health_check', passed, maxRetries: hm.maxRetries, maxRetriesDown: hm.maxRetriesDown });
      if (before !== i.member.operatingStatus && i.member.operatingStatus === 'ERROR') events.push({ tSeconds: t, description: `${i.id} operating_status ERROR` });
      if (i.lifecycle === 'pending' && i.member.operatingStatus === 'ONLINE') i.lifecycle = 'in_service';
    }
    // Traffic.
    const offered = offeredRps(s.source, t);
    const targets = instances.filter((i) => receivesTraffic(i.member, 1));
    const shares = splitTraffic(s.algorithm, offered, targets.map((i) => ({ memberId: i.id, weight: 1, server })), clients);
    let served = 0;
    let failed = 0;
    lastShares = [];
    for (const sh of shares) {
      const inst = targets.find((i) => i.id === sh.memberId)!;
      if (inst.lifecycle === 'draining' || inst.lifecycle === 'terminating') requestsToRemoved += sh.rps * s.tickSeconds;
      if (inst.dead) {
        failed += sh.rps;
        inst.concurrency = 0;
        continue;
      }
      const sv = servedRps(server, sh.rps);
      served += sv;
      inst.concurrency = queueMetrics(server, sh.rps).meanConcurrency;
      perEval.cpu.set(inst.id, (perEval.cpu.get(inst.id) ?? 0) + memberCpuDemandPercent(sh.rps, s.cpuMsPerRequest, s.vcpus, s.baselineCpuPercent));
      perEval.rps.set(inst.id, (perEval.rps.get(inst.id) ?? 0) + sh.rps);
      lastShares.push({ server, rps: sh.rps });
    }
    for (const i of instances) {
      if (!targets.includes(i)) {
        if (i.lifecycle === 'draining' && i.drainStartedMs !== null) {
          // In-flight requests finish at the member's service rate: N(t) = N0 exp(-t / R).
          const elapsed = (nowMs - i.drainStartedMs) / 1000;
          i.concurrency = i.inFlightAtDrain * Math.exp(-elapsed / Math.max(i.responseAtDrain, 1e-6));
        } else i.concurrency = 0;
        if (!i.dead && (i.lifecycle === 'in_service' || i.lifecycle === 'pending')) perEval.cpu.set(i.id, (perEval.cpu.get(i.id) ?? 0) + s.baselineCpuPercent);
      }
    }
    perEval.offered += offered;
    perEval.served += served;
    perEval.failed += failed;
    perEval.dropped += Math.max(0, offered - served - failed);
    perEval.ticks++;

    if (t > 0 && t % s.evaluationPeriodSeconds === 0) {
      const measured = instances.filter((i) => i.lifecycle === 'in_service' && !i.dead && !isWarmingUp(i.launchedAtMs + s.bootSeconds * 1000, s.group.warmupSeconds, nowMs));
      const avgCpu = measured.length ? measured.reduce((a, i) => a + (perEval.cpu.get(i.id) ?? 0) / perEval.ticks, 0) / measured.length : 0;
      const rpsPerMember = measured.length ? measured.reduce((a, i) => a + (perEval.rps.get(i.id) ?? 0) / perEval.ticks, 0) / measured.length : 0;
      if (measured.length) {
        history.average_cpu_percent.push({ value: avgCpu, capacity: measured.length });
        history.requests_per_member.push({ value: rpsPerMember, capacity: measured.length });
      }
      const plan = planScalingGroup({
        group: { ...s.group, minSize, maxSize, desiredCapacity: desired },
        instances: instances.map((i) => ({
          instanceId: i.id, availabilityZone: i.az, launchedAtMs: i.launchedAtMs, lifecycle: i.lifecycle,
          healthy: i.member.operatingStatus !== 'ERROR', protectedFromScaleIn: false,
          drainStartedMs: i.drainStartedMs, inFlightRequests: i.lifecycle === 'draining' ? i.concurrency : null,
        })),
        nowMs, lastEvaluatedMs, lastScalingMs, scheduledActions: s.scheduledActions, policies: s.policies,
        metricHistory: history, alarmStates,
      });
      lastEvaluatedMs = nowMs;
      alarmStates = { ...plan.alarmStates };
      ({ minSize, maxSize } = plan);
      desired = plan.desiredCapacity;
      if (plan.scaledByPolicy) lastScalingMs = nowMs;
      for (const a of plan.activities) events.push({ tSeconds: t, description: `${a.cause}: ${a.fromCapacity} -> ${a.toCapacity}` });
      instances = instances.filter((i) => !plan.replace.includes(i.id));
      for (const id of plan.terminate) {
        const i = instances.find((x) => x.id === id)!;
        cutAtTermination += i.concurrency;
        events.push({ tSeconds: t, description: `${id} drained and terminated` });
      }
      instances = instances.filter((i) => !plan.terminate.includes(i.id));
      for (const id of plan.drain) {
        const i = instances.find((x) => x.id === id)!;
        i.lifecycle = 'draining';
        i.drainStartedMs = nowMs;
        i.inFlightAtDrain = i.concurrency;
        i.responseAtDrain = queueMetrics(server, perEval.rps.get(i.id) ? (perEval.rps.get(i.id) ?? 0) / perEval.ticks : 0).meanResponseSeconds;
        i.member = applyMemberCommand(i.member, { type: 'drain', nowMs });
      }
      for (let k = 0; k < plan.launch; k++) launch(nowMs);
      samples.push({
        tSeconds: t,
        offeredRps: perEval.offered / perEval.ticks,
        servedRps: perEval.served / perEval.ticks,
        droppedRps: perEval.dropped / perEval.ticks,
        failedRps: perEval.failed / perEval.ticks,
        desiredCapacity: desired,
        inService: instances.filter((i) => i.lifecycle === 'in_service').length,
        averageCpuPercent: avgCpu,
        p50Seconds: poolResponsePercentile(lastShares, 0.5),
        p99Seconds: poolResponsePercentile(lastShares, 0.99),
      });
      perEval = { offered: 0, served: 0, dropped: 0, failed: 0, cpu: new Map(), rps: new Map(), ticks: 0 };
    }
  }
  return { samples, events, requestsToRemovedMembers: requestsToRemoved, requestsCutAtTermination: cutAtTermination };
}
