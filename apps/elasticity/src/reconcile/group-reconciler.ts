import type { Clock } from '@minicloud/domain-clock';
import {
  applyMemberCommand,
  isWarmingUp,
  memberCpuDemandPercent,
  memberQueueServer,
  newMember,
  offeredRps,
  planScalingGroup,
  poolResponsePercentile,
  receivesTraffic,
  splitTraffic,
  type GroupInstance,
  type MetricDatapoint,
  type TrackedMetric,
} from '@minicloud/domain-elasticity';
import type { Logger } from '@minicloud/platform-logging';
import type { CloudPort } from '../cloud-port';
import type { EventPublisher } from '../store/deps';
import type { RecordStore } from '../store/record-store';
import { HISTORY_POINTS, type GroupInstanceRecord, type ListenerRecord, type PoolMemberRecord, type PoolRecord, type ScalingGroupRecord, type ScalingPolicyRecord } from '../store/records';

/** Figures of one reconcile, exported as metrics by the caller. */
export interface GroupFigures {
  readonly groupId: string;
  readonly offeredRps: number;
  readonly p50Seconds: number;
  readonly p99Seconds: number;
  readonly desiredCapacity: number;
  readonly inService: number;
  readonly memberCpuPercent: ReadonlyMap<string, number>;
}

/** The workload metadata key the compute agent reads (admin-only; the service sets it on its own servers). */
export const WORKLOAD_METADATA_KEY = 'minicloud:workload';

/**
 * The reconcile of one scaling group (leader only, level-triggered: it re-reads everything each time).
 * Each run: refresh the instances from compute (gone or errored servers), probe the members (a
 * probe passes when the server is active and booted), model the listener's traffic through the pool
 * (split, CPU demand set on each server's workload, p50/p99), and once per evaluation period feed
 * the metrics to `planScalingGroup` and carry out its plan: launch servers and add them as members,
 * drain, delete drained and unhealthy ones. Returns the ms until it wants to run again.
 */
export class GroupReconciler {
  constructor(
    private readonly d: {
      clock: Clock;
      cloud: CloudPort;
      groups: RecordStore<ScalingGroupRecord>;
      policies: RecordStore<ScalingPolicyRecord>;
      pools: RecordStore<PoolRecord>;
      members: RecordStore<PoolMemberRecord>;
      listeners: RecordStore<ListenerRecord>;
      publish: EventPublisher;
      evaluationPeriodMs: number;
      onFigures?: (f: GroupFigures) => void;
    },
  ) {}

  async reconcile(groupId: string, log: Logger): Promise<number | void> {
    const g = await this.d.groups.find(groupId);
    if (!g) return;
    const now = this.d.clock.nowMs();
    const pool = await this.d.pools.find(g.poolId);
    const hm = pool?.healthMonitor ?? null;
    const probeMs = hm ? hm.delaySeconds * 1000 : this.d.evaluationPeriodMs;

    // 1. Instances whose server vanished leave the group (and the pool).
    const servers = new Map(await Promise.all(g.instances.map(async (i) => [i.serverId, await this.d.cloud.getServer(i.serverId)] as const)));
    let members = pool ? await this.d.members.all((m) => m.poolId === pool.id) : [];
    for (const i of g.instances.filter((x) => !servers.get(x.serverId))) {
      await this.removeMember(i.memberId);
      log.info({ server_id: i.serverId }, 'scaling group instance gone');
    }
    // 2. Probes (the health monitor's view: the server answers when it is active).
    for (const m of members) {
      const inst = g.instances.find((i) => i.memberId === m.id);
      const server = inst ? servers.get(inst.serverId) : undefined;
      if (!hm || !inst) continue;
      const passed = server?.vmState === 'active';
      await this.d.members.update(m.id, (cur) => ({ ...cur, status: applyMemberCommand(cur.status, { type: 'health_check', passed, maxRetries: hm.maxRetries, maxRetriesDown: hm.maxRetriesDown }) }));
    }
    members = pool ? await this.d.members.all((m) => m.poolId === pool.id) : [];

    // 3. Traffic through the pool.
    const listener = pool ? await this.d.listeners.find(pool.listenerId) : undefined;
    const src = listener?.trafficSource ?? null;
    const offered = src ? offeredRps(src, src.kind === 'diurnal' ? now / 1000 : (now - (listener?.trafficSourceSetAtMs ?? now)) / 1000) : 0;
    const server = memberQueueServer(Math.max(1, g.flavorVcpus), pool?.cpuMsPerRequest ?? 10);
    const targets = members.filter((m) => receivesTraffic(m.status, m.weight));
    const shares = pool ? splitTraffic(pool.lbAlgorithm, offered, targets.map((m) => ({ memberId: m.id, weight: m.weight, server })), []) : [];
    const rpsOf = new Map(shares.map((s) => [s.memberId, s.rps]));
    const cpuOf = new Map(members.map((m) => [m.id, memberCpuDemandPercent(rpsOf.get(m.id) ?? 0, pool?.cpuMsPerRequest ?? 10, Math.max(1, g.flavorVcpus))]));
    for (const i of g.instances) {
      const cpu = cpuOf.get(i.memberId) ?? 0;
      if (servers.get(i.serverId) && (i.workloadPercent === null || Math.abs(i.workloadPercent - cpu) >= 1)) {
        await this.d.cloud.setServerMetadata(i.serverId, { [WORKLOAD_METADATA_KEY]: `constant:${(cpu / 100).toFixed(3)}` });
      }
    }

    // 4. Instance view for the planner.
    const statusOf = new Map(members.map((m) => [m.id, m]));
    const view: GroupInstanceRecord[] = g.instances
      .filter((i) => servers.get(i.serverId))
      .map((i) => {
        const s = servers.get(i.serverId)!;
        const m = statusOf.get(i.memberId);
        const lifecycle = i.lifecycle === 'pending' && m && (m.status.operatingStatus === 'ONLINE' || m.status.operatingStatus === 'NO_MONITOR') && s.vmState === 'active' ? 'in_service' : i.lifecycle;
        const healthy = s.vmState !== 'error' && s.vmState !== 'stopped' && m?.status.operatingStatus !== 'ERROR';
        return { ...i, lifecycle, healthy, workloadPercent: cpuOf.get(i.memberId) ?? 0 };
      });
    const measured = view.filter((i) => i.lifecycle === 'in_service' && !isWarmingUp(i.launchedAtMs, g.warmupSeconds, now));
    const avgCpu = measured.length ? measured.reduce((a, i) => a + (cpuOf.get(i.memberId) ?? 0), 0) / measured.length : 0;
    const rpsPerMember = measured.length ? measured.reduce((a, i) => a + (rpsOf.get(i.memberId) ?? 0), 0) / measured.length : 0;
    const loads = shares.map((s) => ({ server, rps: s.rps }));
    this.d.onFigures?.({
      groupId,
      offeredRps: offered,
      p50Seconds: poolResponsePercentile(loads, 0.5),
      p99Seconds: poolResponsePercentile(loads, 0.99),
      desiredCapacity: g.desiredCapacity,
      inService: view.filter((i) => i.lifecycle === 'in_service').length,
      memberCpuPercent: new Map(view.map((i) => [i.serverId, cpuOf.get(i.memberId) ?? 0])),
    });

    const due = now - g.lastEvaluatedMs >= this.d.evaluationPeriodMs || g.deleting;
    if (!due) {
      await this.d.groups.update(groupId, (cur) => ({ ...cur, instances: mergeInstances(cur.instances, view) }));
      return Math.min(probeMs, this.d.evaluationPeriodMs - (now - g.lastEvaluatedMs));
    }

    // 5. One evaluation: datapoint, plan, act.
    const history: Record<TrackedMetric, MetricDatapoint[]> = {
      average_cpu_percent: [...g.metricHistory.average_cpu_percent],
      requests_per_member: [...g.metricHistory.requests_per_member],
    };
    if (measured.length) {
      history.average_cpu_percent = [...history.average_cpu_percent, { value: avgCpu, capacity: measured.length }].slice(-HISTORY_POINTS);
      history.requests_per_member = [...history.requests_per_member, { value: rpsPerMember, capacity: measured.length }].slice(-HISTORY_POINTS);
    }
    const policies = g.deleting ? [] : (await this.d.policies.all((p) => p.scalingGroupId === groupId)).map((p) => p.policy);
    const plan = planScalingGroup({
      group: g,
      instances: view.map((i): GroupInstance => ({ instanceId: i.serverId, availabilityZone: i.availabilityZone, launchedAtMs: i.launchedAtMs, lifecycle: i.lifecycle, healthy: i.healthy, protectedFromScaleIn: g.deleting ? false : i.protectedFromScaleIn, drainStartedMs: i.drainStartedMs, inFlightRequests: null })),
      nowMs: now,
      lastEvaluatedMs: g.lastEvaluatedMs,
      lastScalingMs: g.lastScalingMs,
      scheduledActions: [],
      policies,
      metricHistory: history,
      alarmStates: g.alarmStates,
    });
    let instances = view;
    for (const sid of [...plan.replace, ...plan.terminate]) {
      const i = instances.find((x) => x.serverId === sid)!;
      await this.d.cloud.deleteServer(sid);
      await this.removeMember(i.memberId);
      instances = instances.filter((x) => x.serverId !== sid);
    }
    for (const sid of plan.drain) {
      const i = instances.find((x) => x.serverId === sid)!;
      await this.d.members.update(i.memberId, (cur) => ({ ...cur, status: applyMemberCommand(cur.status, { type: 'drain', nowMs: now }) })).catch(() => undefined);
      instances = instances.map((x) => (x.serverId === sid ? { ...x, lifecycle: 'draining' as const, drainStartedMs: now } : x));
    }
    for (let k = 0; k < plan.launch && pool; k++) {
      const s = await this.d.cloud.createServer(`${g.name}-${now.toString(36)}-${k}`, g.launchTemplate, {
        'minicloud:scaling_group': g.id,
        'minicloud:project': g.projectId,
        [WORKLOAD_METADATA_KEY]: 'constant:0',
      });
      const memberId = this.d.members.newId();
      await this.d.members.create({
        id: memberId, projectId: g.projectId, poolId: pool.id, address: s.addresses[0] ?? '0.0.0.0', protocolPort: g.memberProtocolPort, weight: 1, serverId: s.id,
        status: applyMemberCommand(newMember(memberId, hm !== null), { type: 'provisioned' }),
      });
      instances = [...instances, { serverId: s.id, memberId, availabilityZone: s.availabilityZone, lifecycle: 'pending', healthy: true, protectedFromScaleIn: false, launchedAtMs: now, drainStartedMs: null, workloadPercent: 0 }];
    }
    if (g.deleting && instances.length === 0) {
      const cur = await this.d.groups.find(groupId);
      if (cur) await this.d.groups.remove(cur);
      return;
    }
    const updated = await this.d.groups.update(groupId, (cur) => ({
      ...cur,
      minSize: plan.minSize,
      maxSize: plan.maxSize,
      desiredCapacity: plan.desiredCapacity,
      instances: mergeInstances(cur.instances, instances, true),
      lastEvaluatedMs: now,
      lastScalingMs: plan.scaledByPolicy ? now : cur.lastScalingMs,
      alarmStates: plan.alarmStates,
      metricHistory: history,
    }));
    for (const a of plan.activities) {
      log.info({ cause: a.cause, from: a.fromCapacity, to: a.toCapacity }, 'scaling activity');
      await this.d.publish({ entity: 'scaling_group', action: 'scaled', resourceId: groupId, projectId: updated.projectId, fromCapacity: a.fromCapacity, toCapacity: a.toCapacity, cause: a.cause });
    }
    return Math.min(probeMs, this.d.evaluationPeriodMs);
  }

  private async removeMember(memberId: string): Promise<void> {
    const m = await this.d.members.find(memberId);
    if (m) await this.d.members.remove(m).catch(() => undefined);
  }
}

/**
 * The reconcile's instance view written back over the stored list: the reconcile's fields win, but
 * scale-in protection set meanwhile through the API is kept. With `replace`, instances the reconcile
 * removed are dropped and new ones added; otherwise only known instances are updated.
 */
function mergeInstances(stored: readonly GroupInstanceRecord[], view: readonly GroupInstanceRecord[], replace = false): GroupInstanceRecord[] {
  const protectedNow = new Map(stored.map((i) => [i.serverId, i.protectedFromScaleIn]));
  if (replace) return view.map((i) => ({ ...i, protectedFromScaleIn: protectedNow.get(i.serverId) ?? i.protectedFromScaleIn }));
  const byId = new Map(view.map((i) => [i.serverId, i]));
  return stored.map((i) => (byId.has(i.serverId) ? { ...byId.get(i.serverId)!, protectedFromScaleIn: i.protectedFromScaleIn } : i));
}
