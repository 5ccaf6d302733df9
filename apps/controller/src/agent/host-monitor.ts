import { randomUUID } from 'node:crypto';
import { events, type agent } from '@minicloud/proto';
import { HEARTBEAT_WILDCARD, heartbeatSubject, Subjects, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';
import type { LeaderFence } from '@minicloud/platform-lifecycle';
import { HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { evaluateHostLiveness, type HostLiveness, type HostLivenessPolicy, type IsolationRecord } from '@minicloud/domain-compute';
import { hostStateToProto } from '../proto-states';
import type { HostRecord, HostStore, HostUsageRecord } from '../store/host-store';

/** Parses an isolation record; undefined when absent or malformed. */
export function parseIsolationRecord(raw: string | null | undefined): IsolationRecord | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as { epoch?: number; response?: string; powered_off_ids?: string[]; applied_at_ms?: number };
    if (typeof v.epoch !== 'number' || (v.response !== 'power_off' && v.response !== 'shutdown' && v.response !== 'leave_running')) return undefined;
    return { epoch: v.epoch, response: v.response, poweredOffIds: v.powered_off_ids ?? [], appliedAtMs: v.applied_at_ms ?? 0 };
  } catch {
    return undefined;
  }
}

/** One host as the last evaluation saw it. */
export interface HostView {
  host: HostRecord;
  state: HostLiveness;
  /** First time (ms) this replica saw the lease absent or stale in the current silence; undefined while it is held. */
  leaseMissingSinceMs?: number;
  /** When the host left `up` in this failure (ms), for the detection-time metric. */
  lastHeartbeatAtMs?: number;
  /** The agent's isolation record, read for isolated hosts only. */
  isolation?: IsolationRecord;
}

export interface HostMonitorDeps {
  hosts: HostStore;
  bus: Bus;
  logger: Logger;
  nowMs: () => number;
  downAfterMs: number;
  /** Lease channel (both needed to use it; without them liveness is heartbeat-only: up/down). */
  redis?: Redis;
  leaseTtlMs?: number;
  suspectAfterMs?: number;
  newHostGraceMs?: number;
}

/**
 * Host liveness from two channels. Every replica subscribes to `minicloud.hb.host.*`, keeps the latest
 * heartbeat per host in memory (only those carrying the host's current epoch: a fenced agent's
 * heartbeats do not count, but are remembered as `staleHeartbeatAtMs` so HA can tell the agent) and
 * flushes them to Redis periodically; the leader evaluates liveness (pure `evaluateHostLiveness`) with
 * the agents' leases read from Redis (value = epoch, PTTL gives the renewal time), stores state
 * changes and publishes host.state_changed.
 */
export class HostMonitor {
  private readonly latest = new Map<string, { atMs: number; epoch: number; usage: HostUsageRecord; inventory?: agent.HostInstance[] }>();
  private readonly epochs = new Map<string, number>();
  private readonly stale = new Map<string, number>();
  private readonly leaseMissingSince = new Map<string, number>();
  private readonly startedAtMs: number;

  constructor(private readonly d: HostMonitorDeps) {
    this.startedAtMs = d.nowMs();
  }

  /** Starts the heartbeat subscription; returns an unsubscribe. */
  subscribe(): () => void {
    const sub = this.d.bus.subscribe(HEARTBEAT_WILDCARD, events.Heartbeat, async (hb, env) => {
      // Each agent may publish only its own hosts' heartbeat subjects (NATS permissions); a payload
      // naming another host than its subject would let it keep a dead host alive, so it is ignored.
      if (env.subject !== heartbeatSubject(hb.hostId)) return;
      let epoch = this.epochs.get(hb.hostId);
      if (epoch === undefined || hb.epoch > epoch) {
        epoch = await this.d.hosts.epoch(hb.hostId);
        this.epochs.set(hb.hostId, epoch);
      }
      if (hb.epoch < epoch) {
        this.stale.set(hb.hostId, this.d.nowMs());
        return;
      }
      this.latest.set(hb.hostId, {
        atMs: this.d.nowMs(),
        epoch: hb.epoch,
        usage: {
          runningVms: hb.usage?.runningVms ?? hb.runningInstanceIds.length,
          cpuUtilizationRatio: hb.usage?.cpuUtilizationRatio ?? 0,
          powerWatts: hb.usage?.powerWatts ?? 0,
          standby: hb.usage?.standby ?? false,
          energyJoulesTotal: hb.usage?.energyJoulesTotal ?? 0,
          memoryState: hb.usage?.memoryState || undefined,
        },
        inventory: hb.inventoryComplete ? hb.instances : undefined,
      });
    });
    return () => sub.unsubscribe();
  }

  /** A registration (or a fencing) bumped the epoch: older heartbeats stop counting. */
  noteEpoch(hostId: string, epoch: number): void {
    this.epochs.set(hostId, epoch);
    const cur = this.latest.get(hostId);
    if (cur && cur.epoch < epoch) this.latest.delete(hostId);
  }

  /** Latest usage a current-epoch heartbeat of the host carried (this replica's memory). */
  latestUsage(hostId: string): HostUsageRecord | undefined {
    return this.latest.get(hostId)?.usage;
  }

  /** Every VM the host's latest current-epoch heartbeat listed (undefined: none, or an agent that does not send it). */
  latestInventory(hostId: string): readonly agent.HostInstance[] | undefined {
    return this.latest.get(hostId)?.inventory;
  }

  lastHeartbeatAtMs(hostId: string): number | undefined {
    return this.latest.get(hostId)?.atMs;
  }

  /** Last heartbeat carrying an older epoch than the host's (a fenced agent still running). */
  staleHeartbeatAtMs(hostId: string): number | undefined {
    return this.stale.get(hostId);
  }

  /** Writes this replica's freshest heartbeats to Redis (every replica, every LIVENESS_INTERVAL_MS). */
  async flush(): Promise<void> {
    await this.d.hosts.recordHeartbeats([...this.latest].map(([hostId, b]) => ({ hostId, atMs: b.atMs, usage: b.usage })));
  }

  /** Reads every agent lease: host id -> estimated renewal time (ms) when held with the current epoch. */
  private async leases(hosts: HostRecord[]): Promise<Map<string, number | undefined>> {
    const out = new Map<string, number | undefined>();
    if (!this.d.redis || this.d.leaseTtlMs === undefined || hosts.length === 0) return out;
    const pipe = this.d.redis.pipeline();
    for (const h of hosts) pipe.get(HaProtocolKeys.lease(h.hostId)).pttl(HaProtocolKeys.lease(h.hostId));
    const res = (await pipe.exec()) ?? [];
    const now = this.d.nowMs();
    hosts.forEach((h, i) => {
      const value = res[2 * i]?.[1] as string | null;
      const pttl = Number(res[2 * i + 1]?.[1] ?? -2);
      const held = value !== null && Number(value) >= h.epoch && pttl > 0;
      out.set(h.hostId, held ? now - Math.max(0, this.d.leaseTtlMs! - pttl) : undefined);
    });
    return out;
  }

  /**
   * Leader: evaluates every host, records/publishes state changes, returns the views. `fence`: each
   * state change is written only under this replica's fencing token, and only over the state read.
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads
   */
  async evaluate(fence?: LeaderFence): Promise<HostView[]> {
    const hosts = await this.d.hosts.list();
    const leases = await this.leases(hosts);
    const policy: HostLivenessPolicy = {
      downAfterMs: this.d.downAfterMs,
      leaseTtlMs: this.d.redis ? this.d.leaseTtlMs : undefined,
      suspectAfterMs: this.d.suspectAfterMs,
      newHostGraceMs: this.d.newHostGraceMs,
    };
    const views: HostView[] = [];
    for (const h of hosts) {
      const now = this.d.nowMs();
      const lastHeartbeatAtMs = Math.max(h.lastHeartbeatAtMs ?? 0, this.lastHeartbeatAtMs(h.hostId) ?? 0) || undefined;
      const leaseRenewedAtMs = leases.get(h.hostId);
      if (leaseRenewedAtMs !== undefined || this.d.leaseTtlMs === undefined) this.leaseMissingSince.delete(h.hostId);
      else if (!this.leaseMissingSince.has(h.hostId)) this.leaseMissingSince.set(h.hostId, now);
      // A host nobody heard from since this process started (the whole control plane restarted with
      // kept state) gets a new host's grace from that start, as Kubernetes' node lifecycle controller
      // counts silence from its own first look: its agent may not be up yet.
      const unheard = (lastHeartbeatAtMs ?? 0) < this.startedAtMs;
      const registeredAtMs = unheard ? Math.max(h.registeredAtMs, this.startedAtMs) : h.registeredAtMs;
      const decision = evaluateHostLiveness({ state: h.state, registeredAtMs, lastHeartbeatAtMs, leaseRenewedAtMs, nowMs: now }, policy);
      views.push({ host: h, state: decision.state, leaseMissingSinceMs: this.leaseMissingSince.get(h.hostId), lastHeartbeatAtMs });
      if (decision.state !== h.state) await this.setState(h, decision.state, decision.reason, { silent_for_ms: decision.silentForMs }, fence);
    }
    const isolated = views.filter((v) => v.state === 'isolated');
    if (isolated.length > 0 && this.d.redis) {
      const raws = await this.d.redis.mget(isolated.map((v) => HaProtocolKeys.isolation(v.host.hostId)));
      isolated.forEach((v, i) => (v.isolation = parseIsolationRecord(raws[i])));
    }
    return views;
  }

  /**
   * Stores a host state over the one `h` holds (compare-and-set) and publishes events.HostStateChanged.
   * `fence`: a leader loop's write (liveness, DPM), made only under this replica's fencing token.
   * @returns false when the host's state changed meanwhile (nothing stored or published)
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing stored
   */
  async setState(h: HostRecord, state: HostLiveness, reason: string, log: Record<string, unknown> = {}, fence?: LeaderFence): Promise<boolean> {
    if (!(await this.d.hosts.setState(h.hostId, state, { expected: h.state, fence }))) {
      this.d.logger.info({ host_id: h.hostId, from: h.state, to: state, reason }, 'host state not changed: it changed meanwhile');
      return false;
    }
    this.announce(h, state, reason, log);
    return true;
  }

  /** Logs and publishes a state change already stored (fencing stores it atomically with the epoch). */
  announce(h: HostRecord, state: HostLiveness, reason: string, log: Record<string, unknown> = {}, epoch = h.epoch): void {
    this.d.logger.info({ host_id: h.hostId, from: h.state, to: state, reason, epoch, ...log }, 'host state changed');
    // Not awaited: the event is a hint, and a paused NATS must not stall the liveness loop (the
    // partition guard has to run while NATS is unreachable).
    void this.d.bus
      .publishEvent(Subjects.hostStateChanged, events.HostStateChanged, {
      meta: { eventId: randomUUID(), occurredAt: new Date(this.d.nowMs()), source: 'controller' },
      hostId: h.hostId,
      state: hostStateToProto(state),
      oldState: hostStateToProto(h.state),
        reason,
        epoch,
      })
      .catch((e: unknown) => this.d.logger.warn({ host_id: h.hostId, err: e instanceof Error ? e.message : String(e) }, 'host.state_changed not published'));
  }
}
