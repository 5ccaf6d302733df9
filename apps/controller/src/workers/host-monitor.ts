import { randomUUID } from 'node:crypto';
import { events } from '@minicloud/proto';
import { HEARTBEAT_WILDCARD, Subjects, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';
import { evaluateHostLiveness } from '../domain/host-liveness';
import { hostStateToProto } from '../api/proto-mapping';
import type { HostStore, HostUsageRecord } from '../store/host-store';

/**
 * Host liveness from heartbeats. Every replica subscribes to `minicloud.hb.host.*`, keeps the latest
 * heartbeat per host in memory (only those carrying the host's current epoch: a fenced agent's
 * heartbeats do not count) and flushes them to Redis periodically; the leader evaluates liveness
 * (pure `evaluateHostLiveness`), stores state changes and publishes host.state_changed.
 */
export class HostMonitor {
  private readonly latest = new Map<string, { atMs: number; epoch: number; usage: HostUsageRecord }>();
  private readonly epochs = new Map<string, number>();

  constructor(
    private readonly d: { hosts: HostStore; bus: Bus; logger: Logger; nowMs: () => number; downAfterMs: number },
  ) {}

  /** Starts the heartbeat subscription; returns an unsubscribe. */
  subscribe(): () => void {
    const sub = this.d.bus.subscribe(HEARTBEAT_WILDCARD, events.Heartbeat, async (hb) => {
      let epoch = this.epochs.get(hb.hostId);
      if (epoch === undefined || hb.epoch > epoch) {
        epoch = await this.d.hosts.epoch(hb.hostId);
        this.epochs.set(hb.hostId, epoch);
      }
      if (hb.epoch < epoch) return;
      this.latest.set(hb.hostId, {
        atMs: this.d.nowMs(),
        epoch: hb.epoch,
        usage: {
          runningVms: hb.usage?.runningVms ?? hb.runningInstanceIds.length,
          cpuUtilizationRatio: hb.usage?.cpuUtilizationRatio ?? 0,
          powerWatts: hb.usage?.powerWatts ?? 0,
        },
      });
    });
    return () => sub.unsubscribe();
  }

  /** A registration bumped the epoch: older heartbeats stop counting. */
  noteEpoch(hostId: string, epoch: number): void {
    this.epochs.set(hostId, epoch);
    const cur = this.latest.get(hostId);
    if (cur && cur.epoch < epoch) this.latest.delete(hostId);
  }

  lastHeartbeatAtMs(hostId: string): number | undefined {
    return this.latest.get(hostId)?.atMs;
  }

  /** Writes this replica's freshest heartbeats to Redis (every replica, every LIVENESS_INTERVAL_MS). */
  async flush(): Promise<void> {
    await this.d.hosts.recordHeartbeats([...this.latest].map(([hostId, b]) => ({ hostId, atMs: b.atMs, usage: b.usage })));
  }

  /** Leader: evaluates every host and records/publishes state changes. */
  async evaluate(): Promise<void> {
    for (const h of await this.d.hosts.list()) {
      const lastHeartbeatAtMs = Math.max(h.lastHeartbeatAtMs ?? 0, this.lastHeartbeatAtMs(h.hostId) ?? 0) || undefined;
      const decision = evaluateHostLiveness({ state: h.state, registeredAtMs: h.registeredAtMs, lastHeartbeatAtMs, nowMs: this.d.nowMs() }, { downAfterMs: this.d.downAfterMs });
      if (decision.state === h.state) continue;
      await this.d.hosts.setState(h.hostId, decision.state);
      this.d.logger.info({ host_id: h.hostId, from: h.state, to: decision.state, reason: decision.reason, silent_for_ms: decision.silentForMs }, 'host state changed');
      await this.d.bus.publishEvent(Subjects.hostStateChanged, events.HostStateChanged, {
        meta: { eventId: randomUUID(), occurredAt: new Date(this.d.nowMs()), source: 'controller' },
        hostId: h.hostId,
        state: hostStateToProto(decision.state),
        oldState: hostStateToProto(h.state),
        reason: decision.reason,
        epoch: h.epoch,
      });
    }
  }
}
