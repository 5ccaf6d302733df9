import { randomUUID } from 'node:crypto';
import { planConsolidation, type ConsolidationPlan, type ConsolidationPolicy, type PlannerHost, type PlannerVm } from '@minicloud/domain-consolidation';
import { isMinicloudError } from '@minicloud/domain-errors';
import { aggregateInstanceExtraSpecsFilter, availabilityZoneFilter, filterHosts, imagePropertiesFilter, usableCapacity, type HostState, type RequestSpec } from '@minicloud/domain-scheduler';
import { defineFenceableLuaScript, isLeaderFenceLost, type FenceableLuaScript, type LeaderFence } from '@minicloud/platform-lifecycle';
import { Counter, type Registry } from '@minicloud/platform-metrics';
import type { Logger } from '@minicloud/platform-logging';
import type { Redis } from '@minicloud/platform-state';
import type { InstanceRecord } from '@minicloud/domain-compute';
import type { AgentClient } from '../agent/agent-client';
import type { AllocationStore } from '../store/allocation-store';
import type { HostRecord, HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import { Keys } from '../store/keys';
import { TERMINAL_MIGRATION_STATUSES, type MigrationStore } from '../store/migration-store';
import type { ServerGroupStore } from '../store/server-group-store';
import type { HostMonitor } from '../agent/host-monitor';
import type { MigrationRequester, MigrationWorker } from '../migration/migration-worker';
import type { Placement } from '../placement/placement';

/** CloudSim PowerVm.HISTORY_LENGTH. */
const HISTORY_LENGTH = 30;

// KEYS: a VM's utilisation history. ARGV: the new sample, the length kept, TTL ms. Returns the history, newest first.
const APPEND_SAMPLE = `redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('LRANGE', KEYS[1], 0, -1)`;

/** Stores, clients and settings of {@link ConsolidationLoop} (wired in wire.ts from CONSOLIDATION_* and DPM_* config). */
export interface ConsolidationLoopDeps {
  redis: Redis;
  hosts: HostStore;
  instances: InstanceStore;
  allocations: AllocationStore;
  serverGroups: ServerGroupStore;
  migrationRecords: MigrationStore;
  migrations: Pick<MigrationWorker, 'startLive'>;
  placement: Pick<Placement, 'hostStates'>;
  monitor: Pick<HostMonitor, 'setState'>;
  agents: Pick<AgentClient, 'setHostPower' | 'listInstances'>;
  logger: Logger;
  registry?: Registry;
  nowMs: () => number;
  policy: ConsolidationPolicy & { kind: 'migration' };
  /** Live migrations (all causes) in flight at once at most; the plan fills what is left. */
  maxConcurrentMigrations: number;
  /** DPM on: empty hosts to standby, standby hosts woken for capacity. */
  dpm: boolean;
  /** Active hosts DPM keeps on. */
  minActiveHosts: number;
  /** After a wake, DPM leaves the host on at least this long (ms of wall time) so the work it was woken for lands. */
  wakeGraceMs: number;
  /**
   * A host marked standby is powered off only after this long (ms of wall time) with no claim: a request
   * scheduled on a snapshot taken just before the mark has claimed by then (and the host is kept on).
   */
  standbySettleMs: number;
  /**
   * The leader lease and this replica's fencing token: a round's writes (utilisation samples, the
   * destination claims and instance moves of its migrations, DPM's host states) land only under that
   * token. DPM's wake for the scheduler (any replica's NoValidHost) is not a leader write. Unset in tests without an election.
   */
  leaderFence?: LeaderFence;
}

/**
 * The leader's DRS/DPM loop, level-triggered: each round re-reads hosts, instances, claims
 * and migrations, samples every VM's CPU utilisation from its agent (ListInstances: usage MHz /
 * (vCPUs x core MHz)) into a 30-sample history kept in Redis (so a new leader continues it), runs the
 * pure planner (`planConsolidation`: Beloglazov & Buyya's detectors, VM selection, PABFD, DPM) and
 * executes: live migrations through the MigrationWorker (the destination is claimed atomically, so a
 * stale plan fails safely), standby for empty hosts (state first, so the scheduler stops placing; the
 * agent is powered off on a later round once the host stayed unclaimed for standbySettleMs; undone when
 * a claim landed meanwhile) and wakes. Running a round twice is
 * harmless: VMs with a task_state are never moved, and hosts already in the target state are skipped.
 */
export class ConsolidationLoop {
  private lastWakeAtMs = -Infinity;
  private readonly wokenAt = new Map<string, number>();
  private readonly markedAt = new Map<string, number>();
  private readonly poweredOff = new Set<string>();
  private wakeLock: Promise<unknown> = Promise.resolve();
  private readonly started?: Counter<string>;
  private readonly powerTransitions?: Counter<string>;
  private readonly appendSample: FenceableLuaScript;

  constructor(private readonly d: ConsolidationLoopDeps) {
    this.appendSample = defineFenceableLuaScript(d.redis, APPEND_SAMPLE, 1, 3);
    if (d.registry) {
      this.started = new Counter({ name: 'minicloud_consolidation_migrations_total', help: 'Live migrations the consolidation loop started, by reason (overload, underload).', labelNames: ['reason'], registers: [d.registry] });
      this.powerTransitions = new Counter({ name: 'minicloud_dpm_host_power_transitions_total', help: 'DPM host power transitions: to=standby (host shutdowns) or to=up (wakes), by cause.', labelNames: ['to', 'cause'], registers: [d.registry] });
    }
  }

  /**
   * One round: gather, plan, execute. Stops before executing when `signal` (the leadership's) aborted;
   * a write the leader's fence refuses ends the round.
   * @returns the plan (for tests and logs)
   * @throws LeaderFenceLostError when this replica no longer leads
   */
  async tick(signal?: AbortSignal): Promise<ConsolidationPlan> {
    const hosts = await this.d.hosts.list();
    const instances = (await this.d.instances.list()).filter((r) => r.hostId && r.vmState !== 'deleted');
    const migrationsInFlight = (await this.d.migrationRecords.list()).filter((m) => !TERMINAL_MIGRATION_STATUSES.has(m.status));
    const busyInstances = new Set(migrationsInFlight.map((m) => m.instanceId));
    const byId = new Map(hosts.map((h) => [h.hostId, h]));
    // One read of every host's claims (the scheduler's own HostState, aggregate ratio overrides included).
    const states = await this.d.placement.hostStates();
    const instanceIdsByHost = new Map<string, Set<string>>();
    for (const r of instances) instanceIdsByHost.set(r.hostId, (instanceIdsByHost.get(r.hostId) ?? new Set()).add(r.id));
    const plannerHosts = states.flatMap((st) => {
      const h = byId.get(st.hostId);
      return h ? [plannerHostOf(h, st, instanceIdsByHost.get(h.hostId) ?? new Set())] : [];
    });
    const active = new Set(plannerHosts.filter((p) => p.power === 'active').map((p) => p.hostId));
    const samples = await this.sample(hosts.filter((h) => active.has(h.hostId)));
    const allowed = allowedHosts(instances, states);
    const groups = new Map<string, { policy: string }>();
    const vms: PlannerVm[] = [];
    for (const r of instances) {
      const host = byId.get(r.hostId!);
      if (!host) continue;
      const s = samples.get(r.id);
      const group = r.serverGroupId ? (groups.get(r.serverGroupId) ?? (await this.d.serverGroups.find(r.serverGroupId))) : undefined;
      if (r.serverGroupId && group) groups.set(r.serverGroupId, group);
      const movable = r.vmState === 'active' && r.taskState === null && r.powerState === 'running' && !busyInstances.has(r.id) && s !== undefined && group?.policy !== 'affinity';
      vms.push({
        instanceId: r.id,
        hostId: r.hostId!,
        vcpus: r.flavor.vcpus,
        ramMb: r.flavor.ramMb,
        cpuMhz: r.flavor.vcpus * (host.profile.cpuMhz || 1),
        utilizationRatio: s?.utilizationRatio ?? 0,
        history: s?.history ?? [],
        movable,
        antiAffinityGroupId: group?.policy === 'anti-affinity' ? r.serverGroupId : undefined,
        allowedHostIds: allowed.get(r.id),
      });
    }
    const plan = planConsolidation(plannerHosts, vms, {
      detector: this.d.policy.detector,
      selection: this.d.policy.selection,
      maxMigrations: Math.max(0, this.d.maxConcurrentMigrations - migrationsInFlight.length),
      minActiveHosts: this.d.minActiveHosts,
      dpm: this.d.dpm,
    });
    if (signal?.aborted) return plan;
    await this.execute(plan, byId, instances, signal);
    if (plan.migrations.length + plan.standby.length + plan.wake.length > 0) {
      this.d.logger.info(
        { migrations: plan.migrations.length, standby: plan.standby, wake: plan.wake, overloaded: plan.overloadedHostIds, evacuated: plan.evacuatedHostIds },
        'consolidation round',
      );
    }
    return plan;
  }

  /**
   * DPM on demand (the scheduler found no valid host): powers on one standby host and waits until it
   * is up. Concurrent callers share one wake: a caller whose failure predates the last wake just retries.
   * @returns true when capacity was added since the caller failed (retry placement), false when there is no standby host
   */
  async wakeForCapacity(cause = 'no_valid_host'): Promise<boolean> {
    if (!this.d.dpm) return false;
    const failedAtMs = this.d.nowMs();
    const run = this.wakeLock.then(async () => {
      if (this.lastWakeAtMs >= failedAtMs) return true;
      const standby = (await this.d.hosts.list()).filter((h) => h.state === 'standby' && h.enabled);
      if (standby.length === 0) return false;
      // The host that draws least when idle first (vSphere DPM prefers the most efficient hosts).
      standby.sort((a, b) => (a.profile.powerWattsAtLoadDecile?.[0] ?? 0) - (b.profile.powerWattsAtLoadDecile?.[0] ?? 0) || a.hostId.localeCompare(b.hostId));
      for (const h of standby) if (await this.wake(h, cause)) return true;
      return false;
    });
    this.wakeLock = run.catch(() => undefined);
    return run;
  }

  /** `fence`: a wake the leader's round decided (a wake for the scheduler's NoValidHost is not a leader write). */
  private async wake(h: HostRecord, cause: string, fence?: LeaderFence): Promise<boolean> {
    try {
      await this.d.agents.setHostPower(h, false);
    } catch (e) {
      this.d.logger.warn({ host_id: h.hostId, err: errText(e) }, 'DPM: wake failed');
      return false;
    }
    await this.d.monitor.setState(h, 'up', `dpm_wake_${cause}`, {}, fence);
    this.poweredOff.delete(h.hostId);
    this.markedAt.delete(h.hostId);
    this.lastWakeAtMs = this.d.nowMs();
    this.wokenAt.set(h.hostId, this.lastWakeAtMs);
    this.powerTransitions?.inc({ to: 'up', cause });
    return true;
  }

  /** DPM phase 1: state standby (the scheduler stops placing here); the agent is powered off by {@link settleStandby}. */
  private async markStandby(h: HostRecord): Promise<void> {
    const woken = this.wokenAt.get(h.hostId);
    if (woken !== undefined && this.d.nowMs() - woken < this.d.wakeGraceMs) return;
    if (!(await this.d.monitor.setState(h, 'standby', 'dpm_standby', {}, this.d.leaderFence))) return;
    this.markedAt.set(h.hostId, this.d.nowMs());
    this.poweredOff.delete(h.hostId);
  }

  /**
   * DPM phase 2, every round for each host in state standby: once settled with no claim, power the agent
   * off; a host that got a claim (a request scheduled just before the mark) is brought back up instead.
   */
  private async settleStandby(h: HostRecord): Promise<void> {
    const now = this.d.nowMs();
    if (!this.markedAt.has(h.hostId)) this.markedAt.set(h.hostId, h.usage?.standby ? -Infinity : now);
    const alloc = await this.d.allocations.get(h.hostId);
    if (alloc.byInstance.size > 0) {
      if (this.poweredOff.has(h.hostId) || h.usage?.standby) await this.wake(h, 'claimed', this.d.leaderFence);
      else await this.d.monitor.setState(h, 'up', 'dpm_standby_aborted_busy', {}, this.d.leaderFence);
      return;
    }
    if (this.poweredOff.has(h.hostId) || now - this.markedAt.get(h.hostId)! < this.d.standbySettleMs) return;
    try {
      await this.d.agents.setHostPower(h, true);
      if (!h.usage?.standby) this.powerTransitions?.inc({ to: 'standby', cause: 'empty' });
      this.poweredOff.add(h.hostId);
    } catch (e) {
      this.d.logger.warn({ host_id: h.hostId, err: errText(e) }, 'DPM: standby refused');
      await this.d.monitor.setState(h, 'up', 'dpm_standby_refused', {}, this.d.leaderFence);
    }
  }

  private async execute(plan: ConsolidationPlan, byId: Map<string, HostRecord>, instances: InstanceRecord[], signal?: AbortSignal): Promise<void> {
    const byInstance = new Map(instances.map((r) => [r.id, r]));
    const fence = this.d.leaderFence;
    let fenceLost: unknown;
    await Promise.all(
      plan.migrations.map(async (m) => {
        const r = byInstance.get(m.instanceId);
        if (!r) return;
        const who: MigrationRequester = { requestId: `req-drs-${randomUUID()}`, userId: 'minicloud-drs', projectId: r.projectId };
        try {
          await this.d.migrations.startLive(r, m.destHostId, who, fence);
          this.started?.inc({ reason: m.reason });
        } catch (e) {
          if (isLeaderFenceLost(e)) fenceLost = e;
          else this.d.logger.info({ instance_id: m.instanceId, dest_host_id: m.destHostId, err: errText(e) }, 'consolidation: migration not started');
        }
      }),
    );
    if (fenceLost) throw fenceLost;
    if (signal?.aborted) return;
    for (const id of plan.wake) {
      const h = byId.get(id);
      if (h) await this.wakeLock.then(() => this.wake(h, 'overload', fence));
    }
    for (const id of plan.standby) {
      const h = byId.get(id);
      if (h && h.state === 'up') await this.markStandby(h);
    }
    await Promise.all([...byId.values()].filter((h) => h.state === 'standby' && !plan.wake.includes(h.hostId)).map((h) => this.settleStandby(h)));
    // An agent still powered off while its host is up (re-registered in standby, or a revert): power it on.
    for (const h of byId.values()) {
      if (h.state !== 'up' || !h.usage?.standby || plan.standby.includes(h.hostId)) continue;
      await this.d.agents.setHostPower(h, false).catch((e: unknown) => this.d.logger.info({ host_id: h.hostId, err: errText(e) }, 'DPM: power-on not delivered'));
    }
  }

  /** Samples every VM on the active hosts once and appends it to its Redis history. */
  private async sample(hosts: HostRecord[]): Promise<Map<string, { utilizationRatio: number; history: number[] }>> {
    const out = new Map<string, { utilizationRatio: number; history: number[] }>();
    const now: { id: string; u: number }[] = [];
    await Promise.all(
      hosts.map(async (h) => {
        try {
          for (const i of await this.d.agents.listInstances(h)) {
            const cap = Math.max(1, i.vcpus) * (h.profile.cpuMhz || 1);
            now.push({ id: i.instanceId, u: Math.min(1, Math.max(0, i.cpuUsageMhz / cap)) });
          }
        } catch (e) {
          this.d.logger.info({ host_id: h.hostId, err: errText(e) }, 'consolidation: host not sampled');
        }
      }),
    );
    if (now.length === 0) return out;
    // Sent together (ioredis pipelines commands issued in the same tick), each fenced on its own.
    const hists = await Promise.all(
      now.map((s) => this.appendSample([Keys.consolidationHistory(s.id)], [String(s.u), HISTORY_LENGTH, 24 * 3600 * 1000], this.d.leaderFence, `utilisation history of ${s.id}`)),
    );
    now.forEach((s, i) => out.set(s.id, { utilizationRatio: s.u, history: ((hists[i] as string[] | undefined) ?? []).map(Number) }));
    return out;
  }

}

/**
 * The planner's view of one host: capacities from the scheduler's HostState (usable = (total -
 * reserved) x the allocation ratio in force, aggregate overrides included, as the claim enforces),
 * CPU MHz and NIC from its registered profile; `pendingClaims` when a claim is not yet an instance
 * here (an incoming migration or a build).
 */
function plannerHostOf(h: HostRecord, st: HostState, instanceIdsHere: ReadonlySet<string>): PlannerHost {
  const power: PlannerHost['power'] = h.state === 'standby' ? 'standby' : h.state === 'up' && h.enabled ? 'active' : 'unavailable';
  return {
    hostId: h.hostId,
    power,
    cpuMhzTotal: h.vcpusTotal * (h.profile.cpuMhz || 1),
    vcpusCapacity: usableCapacity(st, 'vcpu'),
    vcpusUsed: st.vcpusUsed,
    ramMbCapacity: usableCapacity(st, 'ram'),
    ramMbUsed: st.ramMbUsed,
    nicMbps: (h.profile.nicGbps || 1) * 1000,
    powerModel: { name: h.hostId, source: 'agent registration', wattsAtLoadDecile: h.profile.powerWattsAtLoadDecile?.length === 11 ? h.profile.powerWattsAtLoadDecile : new Array<number>(11).fill(0) },
    pendingClaims: [...st.instanceIds].some((consumer) => !instanceIdsHere.has(consumer)),
  };
}

/** Hosts each instance may move to by availability zone, aggregate metadata and image properties (the scheduler's filters). */
function allowedHosts(instances: readonly InstanceRecord[], states: readonly HostState[]): Map<string, ReadonlySet<string>> {
  const out = new Map<string, ReadonlySet<string>>();
  const zones = new Map(states.map((h) => [h.hostId, h.availabilityZone]));
  for (const r of instances) {
    const spec: RequestSpec = {
      numInstances: 1,
      flavor: { vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: r.flavor.diskGb, extraSpecs: r.flavor.extraSpecs },
      image: { properties: r.image.properties },
      // The instance's zone is its host's (Placement.instanceZone's rule, read from the same snapshot).
      availabilityZone: zones.get(r.hostId) ?? r.availabilityZone,
      schedulerHints: {},
    };
    const { passed } = filterHosts(states as HostState[], [availabilityZoneFilter, aggregateInstanceExtraSpecsFilter, imagePropertiesFilter], spec);
    out.set(r.id, new Set(passed.map((h) => h.hostId)));
  }
  return out;
}

function errText(e: unknown): string {
  return isMinicloudError(e) || e instanceof Error ? e.message : String(e);
}
