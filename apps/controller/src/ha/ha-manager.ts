import { isMinicloudError } from '@minicloud/domain-errors';
import type { Logger } from '@minicloud/platform-logging';
import { defineFenceableLuaScript, isLeaderFenceLost, type FenceableLuaScript, type LeaderFence } from '@minicloud/platform-lifecycle';
import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import { HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { fenceDeadline, isHostDown, isolationFenceDecision, isPoweredOffByItsHost, partitionSuspected, powerOnAfterRejoin, type InstanceRecord } from '@minicloud/domain-compute';
import type { AgentClient } from '../agent/agent-client';
import type { AllocationStore } from '../store/allocation-store';
import { EvacuationStore, type EvacuationRecord } from '../store/evacuation-store';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import { Keys } from '../store/keys';
import type { ServerGroupStore } from '../store/server-group-store';
import type { HostMonitor, HostView } from '../agent/host-monitor';
import type { Placement } from '../placement/placement';
import { isRestartable, orderRestarts, ZoneRateLimiter } from './restart-policy';
import { claimElsewhere } from '../placement/relocation';
import type { FtManager } from '../ft/ft-manager';

/*
 * HA's own keys live in store/keys.ts: `ha:evacuation:<instance>` (JSON EvacuationRecord) and
 * `ha:evacuations` (set of ids), written through store/evacuation-store.ts; the cluster view the
 * leader writes every tick for the agents is HaProtocolKeys.clusterView in platform-state (agents read
 * it before applying their isolation response, as a vSphere host checks a master is responsible for
 * its VMs). Every write of the loop carries the leader's fence (see HaManagerDeps.leaderFence).
 */

export type { EvacuationRecord } from '../store/evacuation-store';

/**
 * Fencing as one atomic step: bumps the epoch and stores state `fenced` only if the epoch is still the
 * one the decision saw, so a registration that raced the decision (the agent is back) wins.
 * KEYS: epoch key, host hash. ARGV: expected epoch. Returns the new epoch, or -1 when it changed.
 */
const FENCE_LUA = `if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -1 end
local e = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], 'state', 'fenced')
return e`;

// KEYS: cluster view. ARGV: JSON, TTL ms. (A script so that the leader's fence can guard it.)
const CLUSTER_VIEW_LUA = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export interface HaManagerDeps {
  redis: Redis;
  hosts: HostStore;
  instances: InstanceStore;
  allocations: AllocationStore;
  serverGroups?: ServerGroupStore;
  /** Scheduler + claim (placement/placement.ts). */
  placement: Pick<Placement, 'placeAll' | 'instanceZone'>;
  monitor: HostMonitor;
  /** Commands to the agents: epoch probes and destroys of stale copies. */
  agents: Pick<AgentClient, 'probeEpoch' | 'destroy' | 'host'>;
  logger: Logger;
  registry: Registry;
  nowMs: () => number;
  /** Hands an instance to the conductor's work queue. */
  enqueue: (id: string) => void;
  /** CAS transition that publishes instance.state_changed (Conductor.transition); `fence` makes it a leader write. */
  transition: (id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, fence?: LeaderFence) => Promise<InstanceRecord | undefined>;
  selfFenceAfterMs: number;
  restartsPerZonePerSecond: number;
  restartBurst: number;
  enabled: boolean;
  /** TTL of the cluster view the agents read (ms; default 5000: a few ticks, so a dead leader's view expires soon). */
  clusterViewTtlMs?: number;
  /**
   * The leader lease and this replica's fencing token. Every write of the loop (host states, the
   * fencing epoch bump, the cluster view, evacuation records, destination claims, the instance moves
   * and corrections) then lands only while this replica still holds that token, checked in the same
   * Lua script as the write, so a leader that stalled past its lease changes nothing when it wakes.
   * Unset in tests that drive the manager without an election.
   */
  leaderFence?: LeaderFence;
  /**
   * Fault tolerance (ft/ft-manager.ts): run in each tick with its host views, after fencing and before
   * evacuations open, so a server whose secondary went live is never restarted by HA as well.
   */
  ft?: Pick<FtManager, 'tick'>;
}

/**
 * The leader's HA loop (Masakari's host-failure recovery with vSphere HA's detection and Proxmox's
 * fencing rule), level-triggered: every tick re-reads hosts, leases, instances and the durable
 * evacuation records, so a new leader finishes what the old one started.
 *
 * A tick: (1) evaluate liveness (HostMonitor); (2) if every host looks down at once, restart nothing
 * (minicloud_ha_partition_suspected = 1 and a log line); (3) fence each failed host whose
 * fenceDeadline passed: INCR its epoch (agents refuse the old one), state `fenced`; (4) open an
 * evacuation record for each restartable instance of a fenced host (action `evacuate`); (5) drive
 * evacuations in restart order under the per-zone rate limit: claim a destination through Placement
 * (failed host excluded; anti-affinity group honoured), move the instance (host_id, vm_state building,
 * task_state networking: the conductor rebinds ports and spawns), and when it is ACTIVE release the
 * old claim. What does not fit is ERROR with the reason and retried every tick.
 */
export class HaManager {
  private readonly limiter: ZoneRateLimiter;
  private partitioned = false;
  private readonly probedAtMs = new Map<string, number>();
  private readonly scripts: { fence: FenceableLuaScript; clusterView: FenceableLuaScript };
  private readonly evacs: EvacuationStore;
  private readonly m: {
    partition: Gauge<string>;
    fencings: Counter<string>;
    restarts: Counter<string>;
    restartSeconds: Histogram<string>;
    detectionSeconds: Histogram<string>;
    pending: Gauge<string>;
  };

  constructor(private readonly d: HaManagerDeps) {
    this.limiter = new ZoneRateLimiter({ perSecond: d.restartsPerZonePerSecond, burst: d.restartBurst });
    this.scripts = { fence: defineFenceableLuaScript(d.redis, FENCE_LUA, 2, 1), clusterView: defineFenceableLuaScript(d.redis, CLUSTER_VIEW_LUA, 1, 2) };
    this.evacs = new EvacuationStore(d.redis);
    const r = [d.registry];
    this.m = {
      partition: new Gauge({ name: 'minicloud_ha_partition_suspected', help: '1 while every host looks down at once (the controller assumes it is cut off and restarts nothing).', registers: r }),
      fencings: new Counter({ name: 'minicloud_ha_fencings_total', help: 'Hosts fenced (epoch bumped before restarting their VMs).', registers: r }),
      restarts: new Counter({ name: 'minicloud_ha_restarts_total', help: 'HA restart attempts by result (placed, active, no_capacity).', labelNames: ['result'], registers: r }),
      restartSeconds: new Histogram({ name: 'minicloud_ha_restart_seconds', help: 'Fencing to instance ACTIVE on its new host.', buckets: [1, 2, 5, 10, 20, 30, 60, 120], registers: r }),
      detectionSeconds: new Histogram({ name: 'minicloud_ha_detection_seconds', help: 'Last heartbeat to host failed.', buckets: [1, 2, 3, 5, 8, 13, 20, 30], registers: r }),
      pending: new Gauge({ name: 'minicloud_ha_pending_restarts', help: 'Evacuations not finished (in progress or waiting for capacity).', registers: r }),
    };
    this.m.partition.set(0);
  }

  /**
   * One leader tick (see the class doc). Errors of one instance do not stop the others; a write the
   * leader's fence refuses, or `signal` (the leadership's) aborting, ends the tick at once.
   */
  async tick(signal?: AbortSignal): Promise<void> {
    try {
      await this.tickUnder(signal ?? new AbortController().signal);
    } catch (e) {
      if (!isLeaderFenceLost(e)) throw e;
      this.d.logger.warn({ err: e.message }, 'HA tick stopped: a write was refused by the leader fence (this replica no longer leads)');
    }
  }

  private async tickUnder(signal: AbortSignal): Promise<void> {
    const fence = this.d.leaderFence;
    const views = await this.d.monitor.evaluate(fence);
    if (signal.aborted) return;
    // Manual evacuations (ServerAction evacuate) run even with HA disabled: their hosts get fenced by
    // the same rules (failed: after the fence deadline; isolated: once its VMs are off).
    const manualFrom = new Set((await this.evacuations()).filter(({ rec }) => rec.manual && rec.fencedEpoch === 0).map(({ rec }) => rec.fromHostId));
    if (!this.d.enabled && manualFrom.size === 0 && (await this.d.redis.scard(Keys.evacuations())) === 0) return;
    const fencing = (hostId: string) => this.d.enabled || manualFrom.has(hostId);
    const partition = partitionSuspected(views.map((v) => v.state));
    if (partition !== this.partitioned) {
      this.partitioned = partition;
      this.m.partition.set(partition ? 1 : 0);
      if (partition) this.d.logger.error({ hosts: views.length }, 'every host looks down at once: assuming this controller is cut off; restarting nothing');
      else this.d.logger.info('hosts visible again: HA resumes');
    }
    // No cluster view with HA disabled: nobody would restart an isolated host's VMs.
    if (this.d.enabled) await this.publishClusterView(partition ? [] : views.filter((v) => v.state === 'up').map((v) => v.host.hostId));
    if (partition || signal.aborted) return;
    for (const v of views) {
      if (signal.aborted) return;
      if (v.state === 'failed' && fencing(v.host.hostId)) await this.maybeFence(v);
      if (v.state === 'isolated' && fencing(v.host.hostId)) await this.maybeFenceIsolated(v);
    }
    await this.probeStaleAgents(views);
    let all = this.d.enabled ? await this.d.instances.list() : [];
    if (this.d.enabled && this.d.ft) {
      await this.d.ft.tick(views, all, signal);
      // FT writes only its own servers' records (a failover moves one to its secondary's host): the
      // restarts below need a fresh read only when some server is under FT.
      if (all.some((r) => r.ft && r.ft.state !== 'not_protected')) all = await this.d.instances.list();
    }
    const fenced = new Map(views.filter((v) => v.state === 'fenced').map((v) => [v.host.hostId, v.host]));
    for (const r of all) {
      if (signal.aborted) return;
      const from = fenced.get(r.hostId);
      if (from && isRestartable(r)) await this.open(r, from.epoch);
    }
    await this.drive(views, signal);
    if (this.d.enabled && !signal.aborted) await this.powerOnRejoined(views, all, signal);
  }

  /** The leader's cluster view for the agents' isolation check (hosts it sees up; none while partitioned). */
  private async publishClusterView(hostsUp: string[]): Promise<void> {
    await this.scripts.clusterView([HaProtocolKeys.clusterView()], [JSON.stringify({ hosts_up: hostsUp, at_ms: this.d.nowMs() }), this.d.clusterViewTtlMs ?? 5000], this.d.leaderFence, 'HA cluster view');
  }

  /**
   * Epoch bump + `fenced`, atomically and only from the epoch the decision saw.
   * @returns the new epoch or undefined
   * @throws LeaderFenceLostError when this replica no longer leads (nothing fenced)
   */
  private async fence(v: HostView, reason: string): Promise<number | undefined> {
    const epoch = Number(await this.scripts.fence([Keys.hostEpoch(v.host.hostId), Keys.host(v.host.hostId)], [v.host.epoch], this.d.leaderFence, `fencing of host ${v.host.hostId}`));
    // The script wrote the host's state: the scheduler's host-state cache reloads.
    this.d.hosts.onChange?.();
    if (epoch < 0) {
      this.d.logger.info({ host_id: v.host.hostId, epoch: v.host.epoch }, 'not fenced: the host registered again meanwhile');
      return undefined;
    }
    this.d.monitor.noteEpoch(v.host.hostId, epoch);
    this.d.monitor.announce(v.host, 'fenced', reason, {}, epoch);
    this.m.fencings.inc();
    return epoch;
  }

  /**
   * An isolated host whose agent recorded, for its current epoch, that it applied power_off/shutdown:
   * its VMs are off and it starts none, so fence it and restart them elsewhere (the evacuation path of
   * failed hosts). leave_running (or no record yet) restarts nothing.
   */
  private async maybeFenceIsolated(v: HostView): Promise<void> {
    const d = isolationFenceDecision({ state: v.state, hostEpoch: v.host.epoch, record: v.isolation });
    if (!d.fence) return;
    const epoch = await this.fence(v, 'fenced_isolated');
    if (epoch !== undefined) this.d.logger.warn({ host_id: v.host.hostId, epoch, response: v.isolation?.response, powered_off: v.isolation?.poweredOffIds.length }, 'isolated host applied its isolation response: fenced, restarting its VMs elsewhere');
  }

  /**
   * VMs a host powered off by itself (self-fencing after a Redis blip, or an isolation response) that
   * were never restarted elsewhere come back on that host once it re-registered and heartbeats with
   * its new epoch (vSphere/Proxmox HA restart them); never while an evacuation is open for them.
   */
  private async powerOnRejoined(views: HostView[], all: InstanceRecord[], signal: AbortSignal): Promise<void> {
    const up = new Set(views.filter((v) => v.state === 'up' && (v.lastHeartbeatAtMs ?? 0) >= v.host.registeredAtMs).map((v) => v.host.hostId));
    if (up.size === 0) return;
    const evacuating = new Set(await this.d.redis.smembers(Keys.evacuations()));
    for (const r of powerOnAfterRejoin(all, up, evacuating)) {
      if (signal.aborted) return;
      const requestId = `req-ha-power-on-${r.id}-${this.d.nowMs()}`;
      const next = await this.d.transition(
        r.id,
        (cur) => (cur.hostId === r.hostId && isPoweredOffByItsHost(cur) ? { ...cur, taskState: 'powering_on', actionRequestId: requestId, taskStartedAtMs: this.d.nowMs() } : undefined),
        this.d.leaderFence,
      );
      if (!next) continue;
      await this.d.instances.startAction(r.id, { requestId, action: 'start', userId: 'ha', projectId: r.projectId, startMs: this.d.nowMs(), result: '', message: '' });
      this.d.logger.warn({ instance_id: r.id, host_id: r.hostId }, 'HA: powering on a VM its host powered off by itself (rejoined without being fenced)');
      this.d.enqueue(r.id);
    }
  }

  private async maybeFence(v: HostView): Promise<void> {
    if (v.leaseMissingSinceMs === undefined) return;
    const { ready } = fenceDeadline({ nowMs: this.d.nowMs(), leaseMissingSinceMs: v.leaseMissingSinceMs }, { selfFenceAfterMs: this.d.selfFenceAfterMs });
    if (!ready) return;
    const epoch = await this.fence({ ...v, host: { ...v.host, state: 'failed' } }, 'fenced_for_restart');
    if (epoch === undefined) return;
    if (v.lastHeartbeatAtMs) this.m.detectionSeconds.observe(Math.max(0, this.d.nowMs() - v.lastHeartbeatAtMs) / 1000);
  }

  /**
   * A fenced agent still heartbeating with its old epoch (it was frozen or cut off) learns its epoch
   * is stale from any command carrying the newer one: it re-registers and destroys what was moved.
   */
  private async probeStaleAgents(views: HostView[]): Promise<void> {
    const now = this.d.nowMs();
    for (const v of views) {
      const at = this.d.monitor.staleHeartbeatAtMs(v.host.hostId);
      if (at === undefined || now - at > 5000 || now - (this.probedAtMs.get(v.host.hostId) ?? 0) < 2000) continue;
      this.probedAtMs.set(v.host.hostId, now);
      await this.d.agents.probeEpoch(v.host);
    }
  }

  /** Opens an evacuation (idempotent) and logs the `evacuate` action, in one fenced step. */
  private async open(r: InstanceRecord, fencedEpoch: number): Promise<void> {
    const requestId = `req-evacuate-${r.id}-${fencedEpoch}`;
    const rec: EvacuationRecord = { instanceId: r.id, fromHostId: r.hostId, fencedEpoch, requestId, startedAtMs: this.d.nowMs(), attempts: 0 };
    const action = { requestId, action: 'evacuate', userId: 'ha', projectId: r.projectId, startMs: rec.startedAtMs, result: '', message: '' };
    if (!(await this.evacs.open(rec, action, this.d.leaderFence))) return;
    this.d.logger.info({ instance_id: r.id, host_id: r.hostId, epoch: fencedEpoch }, 'HA restart scheduled');
  }

  /** All open evacuations with their instances, in restart order. */
  async evacuations(): Promise<{ rec: EvacuationRecord; r?: InstanceRecord }[]> {
    const ids = await this.evacs.ids();
    if (ids.length === 0) return [];
    const recs = (await this.evacs.getMany(ids)).map((rec, i) => rec ?? { instanceId: ids[i], fromHostId: '', fencedEpoch: 0, requestId: '', startedAtMs: 0, attempts: -1 });
    const instances = new Map((await this.d.instances.getMany(ids)).map((r) => [r.id, r]));
    const withInstance = recs.filter((rec) => instances.has(rec.instanceId)).map((rec) => ({ rec, r: instances.get(rec.instanceId)!, ...instances.get(rec.instanceId)! }));
    const gone = recs.filter((rec) => !instances.has(rec.instanceId)).map((rec) => ({ rec, r: undefined }));
    return [...gone, ...orderRestarts(withInstance).map(({ rec, r }) => ({ rec, r }))];
  }

  private async drive(views: HostView[], signal: AbortSignal): Promise<void> {
    const evs = await this.evacuations();
    this.m.pending.set(evs.length);
    const byHost = new Map(views.map((v) => [v.host.hostId, v]));
    // While a host is failed but not fenced yet, more restarts are coming: wait, so that restart
    // priority holds across hosts failing together (a low one must not take a high one's place).
    const settling = views.some((v) => v.state === 'failed');
    for (const { rec, r } of evs) {
      if (signal.aborted) return;
      try {
        await this.step(rec, r, byHost, settling);
      } catch (e) {
        if (isLeaderFenceLost(e)) throw e;
        this.d.logger.warn({ instance_id: rec.instanceId, err: e instanceof Error ? e.message : String(e) }, 'HA restart step failed; retrying next tick');
      }
    }
  }

  /** Ends the evacuation `rec` (as read) and releases the old claim, in one fenced step. @returns false when the record changed meanwhile */
  private async close(rec: EvacuationRecord): Promise<boolean> {
    const closed = await this.evacs.close(rec, { releaseFrom: true }, this.d.leaderFence);
    if (closed && rec.fromHostId) this.d.allocations.onChange?.(rec.fromHostId);
    return closed;
  }

  /** Compare-and-set of the evacuation record `read` to `next` (fenced). @returns false when it changed meanwhile */
  private replace(read: EvacuationRecord, next: EvacuationRecord): Promise<boolean> {
    return this.evacs.replace(read, next, this.d.leaderFence);
  }

  /**
   * One step of one evacuation, from `rec` and `r` as read this tick: each write is compare-and-set
   * against them (a record or instance that changed meanwhile is left to the next tick) and fenced.
   */
  private async step(rec: EvacuationRecord, r: InstanceRecord | undefined, byHost: Map<string, HostView>, settling: boolean): Promise<void> {
    if (!r || r.taskState === 'deleting') return void (await this.close(rec)); // deleted meanwhile
    const now = this.d.nowMs();
    if (rec.fencedEpoch === 0) {
      // A manual evacuation waits for its host to be fenced (the tick fences it when that is safe).
      const from = byHost.get(rec.fromHostId);
      if (from?.state !== 'fenced') {
        if (from && !isHostDown(from.state)) return this.abandon(rec, r, `host ${rec.fromHostId} is ${from.state} again`);
        return;
      }
      const next = { ...rec, fencedEpoch: from.host.epoch };
      if (!(await this.replace(rec, next))) return;
      rec = next;
    }
    if (rec.toHostId) {
      if (r.hostId === rec.toHostId && r.vmState === 'active' && r.taskState === null) {
        if (!(await this.close(rec))) return;
        await this.d.instances.finishAction(r.id, rec.requestId, 'Success', '', now);
        this.m.restarts.inc({ result: 'active' });
        this.m.restartSeconds.observe(Math.max(0, now - rec.startedAtMs) / 1000);
        this.d.logger.info({ instance_id: r.id, from: rec.fromHostId, to: rec.toHostId, seconds: (now - rec.startedAtMs) / 1000 }, 'HA restart done');
        return;
      }
      if (r.hostId === rec.toHostId && r.vmState === 'building') return; // the conductor is on it
      if (r.hostId === rec.toHostId && r.vmState === 'error') {
        if (r.pendingCleanup) return;
        await this.replace(rec, { ...rec, toHostId: undefined, lastError: r.fault?.message ?? 'spawn failed' });
        return;
      }
      if (r.hostId !== rec.toHostId && r.hostId === rec.fromHostId) {
        // Crash between the claim and moving the record: adopt the claim.
        return this.move(rec, r, rec.toHostId);
      }
      return void (await this.close(rec)); // someone else moved it (user action): nothing left to restart
    }
    // Not placed yet. A host that came back (new epoch) frees the old claim so it can take it again.
    const fromView = byHost.get(rec.fromHostId);
    if (fromView && fromView.state === 'up' && fromView.host.epoch > rec.fencedEpoch) {
      // Its powered-off copy there goes too (it registered before this restart moved the instance, so
      // its destroy_instance_ids did not name it), so it cannot linger holding the host's memory. The
      // fenced release comes first: a stale leader is stopped there, before it commands the agent.
      await this.d.allocations.release(rec.fromHostId, r.id, this.d.leaderFence);
      if (r.hostId === rec.fromHostId) await this.destroyOldCopy(rec, rec.fromHostId);
    }
    const adopted = await this.findClaim(r.id, rec.fromHostId, byHost);
    if (adopted) return this.move(rec, r, adopted);
    if (settling) return;
    const zone = r.availabilityZone || 'nova';
    if (!this.limiter.tryTake(zone, now)) return;
    let to: string;
    try {
      to = await this.place(r, rec.targetHostId);
    } catch (e) {
      if (!isMinicloudError(e) || e.code !== 'RESOURCE_EXHAUSTED') throw e;
      this.m.restarts.inc({ result: 'no_capacity' });
      const message = `HA restart from failed host ${rec.fromHostId}: ${e.message}; retried when capacity returns`;
      if (rec.lastError !== e.message) {
        if (!(await this.replace(rec, { ...rec, attempts: rec.attempts + 1, lastError: e.message }))) return;
        this.d.logger.warn({ instance_id: r.id, host_id: rec.fromHostId, reason: e.message }, 'HA restart has no capacity');
      }
      await this.d.transition(
        r.id,
        (cur) =>
          cur.vmState === 'error' && cur.fault?.message === message ? undefined : { ...cur, vmState: 'error', taskState: null, powerState: 'nostate', fault: { code: 'RESOURCE_EXHAUSTED', message } },
        this.d.leaderFence,
      );
      return;
    }
    this.m.restarts.inc({ result: 'placed' });
    const placed = { ...rec, toHostId: to, attempts: rec.attempts + 1 };
    // Changed meanwhile: the claim stays, and the next tick adopts it (findClaim), so none is left behind.
    if (!(await this.replace(rec, placed))) return;
    await this.move(placed, r, to);
  }

  /** Claim through Placement: failed host excluded, server group honoured, the operator's target host if any (placement/relocation.ts). */
  private place(r: InstanceRecord, targetHostId?: string): Promise<string> {
    return claimElsewhere(this.d, r, '', { requestedHostId: targetHostId, fence: this.d.leaderFence });
  }

  /** A manual evacuation whose host came back before it was fenced: nothing to restart; the action fails. */
  private async abandon(rec: EvacuationRecord, r: InstanceRecord, why: string): Promise<void> {
    if (!(await this.evacs.close(rec, { releaseFrom: false }, this.d.leaderFence))) return;
    await this.d.instances.finishAction(r.id, rec.requestId, 'Error', `evacuation abandoned: ${why}`, this.d.nowMs());
    this.d.logger.warn({ instance_id: r.id, host_id: rec.fromHostId, why }, 'manual evacuation abandoned');
  }

  /** A claim for the instance on a live host other than the failed one (a crashed leader's half-done step). */
  private findClaim(instanceId: string, fromHostId: string, byHost: Map<string, HostView>): Promise<string | undefined> {
    return this.d.allocations.hostHolding(instanceId, [...byHost.keys()].filter((h) => h !== fromHostId));
  }

  /** The failed host came back holding a (powered-off) copy: destroy it so the spawn starts afresh. */
  private async destroyOldCopy(rec: EvacuationRecord, hostId: string): Promise<void> {
    const host = await this.d.agents.host(hostId);
    await this.d.agents.destroy(host, rec.instanceId, { requestId: rec.requestId, step: `old-copy-${host.epoch}` });
  }

  /**
   * Moves the instance to its new host (`rec` as stored; its destination recorded first); the
   * conductor rebinds ports and spawns; the old claim goes when ACTIVE. The instance record's host
   * change is the write that makes the move visible: fenced, and only over the instance as `r` read
   * it, so a stale leader's move can neither land nor redo one already made.
   */
  private async move(rec: EvacuationRecord, r: InstanceRecord, to: string): Promise<void> {
    if (rec.toHostId !== to) {
      const next = { ...rec, toHostId: to };
      if (!(await this.replace(rec, next))) return;
      rec = next;
    } else if (to === rec.fromHostId && !(await this.replace(rec, rec))) {
      // Back to the host it came from: before the agent is told to destroy the old copy, a fenced
      // compare-and-set shows this replica still leads and the record is still the one it decided on.
      return;
    }
    if (to === rec.fromHostId) await this.destroyOldCopy(rec, to);
    const now = this.d.nowMs();
    let moved = false;
    await this.d.transition(
      r.id,
      (cur) => {
        moved = !(cur.taskState === 'deleting' || cur.hostId !== r.hostId || cur.vmState !== r.vmState || cur.taskState !== r.taskState);
        return moved
          ? { ...cur, hostId: to, vmState: 'building', taskState: 'networking', powerState: 'nostate', fault: undefined, actionRequestId: rec.requestId, taskStartedAtMs: now, pendingCleanup: false, adminPass: rec.adminPass }
          : undefined;
      },
      this.d.leaderFence,
    );
    if (!moved) return;
    this.d.logger.info({ instance_id: r.id, from: rec.fromHostId, to }, 'HA restart: evacuating');
    this.d.enqueue(r.id);
  }
}
