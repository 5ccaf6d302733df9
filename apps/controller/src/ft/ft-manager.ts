import { casGeneration, decideFt, FT_STATES, type FtHostHealth, type FtPair } from '@minicloud/domain-ft';
import { isHostDown, type InstanceRecord } from '@minicloud/domain-compute';
import { isMinicloudError } from '@minicloud/domain-errors';
import type { agent } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import { isLeaderFenceLost, type LeaderFence } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import type { AgentClient } from '../agent/agent-client';
import type { HostView } from '../agent/host-monitor';
import type { Peers } from '../peers';
import type { Placement } from '../placement/placement';
import { claimElsewhere } from '../placement/relocation';
import type { AllocationStore } from '../store/allocation-store';
import type { InstanceStore } from '../store/instance-store';
import type { ServerGroupStore } from '../store/server-group-store';

import { ftConsumer } from './ft-consumer';

export { ftConsumer };

/**
 * What the HA leader's FT loop needs: the instance and allocation stores, placement for secondaries,
 * the agents' FT commands, the network service for rebinding ports on failover, and the conductor's
 * fenced transition and spec builder.
 */
export interface FtManagerDeps {
  instances: InstanceStore;
  allocations: AllocationStore;
  serverGroups?: ServerGroupStore;
  placement: Pick<Placement, 'placeAll' | 'instanceZone' | 'zonesOf'>;
  agents: Pick<AgentClient, 'host' | 'ftPrepareSecondary' | 'ftStartPrimary' | 'ftPromote' | 'ftStop' | 'listInstances'>;
  /** The network service (ports rebound to the new live host: the FDB follows through l2pop). */
  peers: Pick<Peers, 'network'>;
  /** Conductor's CAS update + InstanceStateChanged; `fence` makes it a leader write. */
  transition: (id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, fence?: LeaderFence) => Promise<InstanceRecord | undefined>;
  /** Conductor's agent spec of an instance. */
  instanceSpec(r: InstanceRecord): DeepPartial<agent.InstanceSpec>;
  logger: Logger;
  registry: Registry;
  nowMs: () => number;
  /** Checkpoint interval handed to the primaries, ms (0: Remus's 25 ms). */
  epochMs: number;
  /** A failed synchronisation is retried after this long, ms (default 5000). */
  retryAfterMs?: number;
  /** How often the primaries of protected pairs are asked whether their stream still runs, ms (default 2000). */
  streamCheckEveryMs?: number;
  leaderFence?: LeaderFence;
}

/**
 * The controller's FT loop (docs/fault-tolerance.md), run inside the HA leader's tick with the
 * tick's host views, before HA opens evacuations. Level-triggered: every tick re-reads the FT pairs
 * (`InstanceRecord.ft`) and applies {@link decideFt}:
 * - `protect`: claim a secondary host through Placement (anti-affinity with the primary: the
 *   instance's own host is excluded; the claim `<id>#ft` counts for admission control), then
 *   `starting` -> the secondary's standby copy is defined, the primary copies its RAM and checkpoints
 *   -> `protected`. A failure releases everything and retries later;
 * - `failover` (primary's host down): compare-and-set of the FT generation (`failing_over`), the
 *   standby copy promoted (no reboot), the instance moved to the secondary's host, its ports rebound
 *   there (the FDB follows), the `#ft` claim becomes the instance's, the old one released ->
 *   `need_secondary` (a third host is then protected by `protect`);
 * - `drop_secondary` (secondary's host down): compare-and-set, the primary told to go on alone
 *   (its held output released), the claim released -> `need_secondary`;
 * - `give_up_to_ha` (both down, or a secondary never synchronised): compare-and-set -> `need_secondary`;
 *   HA restarts the server from its disk;
 * - both hosts up but the primary reports its stream lost: as `drop_secondary` ({@link checkStreams}).
 * Every compare-and-set is on the generation the decision read, so of two replicas (a stale leader
 * and the new one) at most one moves the pair: exactly one copy is ever live.
 */
export class FtManager {
  private readonly syncing = new Set<string>();
  private readonly retryAt = new Map<string, number>();
  private checkingStreams = false;
  private streamsCheckedAtMs = 0;
  private readonly m: { failovers: Counter<string>; failoverSeconds: Histogram<string>; unprotected: Counter<string>; servers: Gauge<string> };

  constructor(private readonly d: FtManagerDeps) {
    const r = [d.registry];
    this.m = {
      failovers: new Counter({ name: 'minicloud_ft_failovers_total', help: 'FT failovers by result (promoted: the secondary went live; to_ha: no synchronised secondary, HA restarts).', labelNames: ['result'], registers: r }),
      failoverSeconds: new Histogram({ name: 'minicloud_ft_failover_seconds', help: 'From the primary host\'s last heartbeat to the secondary live on its host.', buckets: [0.5, 1, 2, 3, 5, 8, 13, 20], registers: r }),
      unprotected: new Counter({ name: 'minicloud_ft_unprotected_seconds_total', help: 'Time FT servers spent without a synchronised secondary (counted when they become protected again).', registers: r }),
      servers: new Gauge({ name: 'minicloud_ft_servers', help: 'Servers with FT enabled, by ft_state.', labelNames: ['ft_state'], registers: r }),
    };
    for (const s of FT_STATES) this.m.servers.set({ ft_state: s }, 0);
    this.m.failovers.inc({ result: 'promoted' }, 0);
    this.m.failovers.inc({ result: 'to_ha' }, 0);
  }

  /**
   * One pass over the FT pairs with this tick's host views. Errors of one pair are logged and retried
   * next tick; a write refused by the leader fence ends the pass (rethrown).
   */
  async tick(views: readonly HostView[], instances: readonly InstanceRecord[], signal: AbortSignal): Promise<void> {
    const health = new Map(views.map((v) => [v.host.hostId, v] as const));
    const h = (hostId?: string): FtHostHealth | undefined => (hostId ? (health.has(hostId) && !isHostDown(health.get(hostId)!.state) ? 'up' : 'down') : undefined);
    const counts = new Map<string, number>(FT_STATES.map((s) => [s, 0]));
    for (const r of instances) {
      if (signal.aborted) return;
      const ft = r.ft;
      if (!ft || ft.state === 'not_protected' || r.taskState === 'deleting') continue;
      counts.set(ft.state, (counts.get(ft.state) ?? 0) + 1);
      try {
        if (ft.state === 'failing_over') {
          await this.failover(r, ft, health.get(r.hostId)?.lastHeartbeatAtMs);
          continue;
        }
        const decision = decideFt(ft, h(r.hostId)!, h(ft.secondaryHostId));
        if (decision.kind === 'failover') {
          const won = await this.cas(r.id, ft.generation, (cur) => ({ ...cur, state: 'failing_over', generation: decision.generation }));
          if (won) await this.failover(won, won.ft!, health.get(r.hostId)?.lastHeartbeatAtMs);
        } else if (decision.kind === 'drop_secondary' || decision.kind === 'give_up_to_ha') {
          await this.unprotect(r, ft, decision.generation, decision.kind, (id) => h(id) === 'up');
        } else if (decision.kind === 'protect') {
          if (r.vmState === 'active' && r.powerState === 'running' && r.taskState === null && (this.retryAt.get(r.id) ?? 0) <= this.d.nowMs()) await this.protect(r, ft);
        } else if (ft.state === 'starting' && !this.syncing.has(r.id)) {
          this.synchronise(r, ft);
        }
      } catch (e) {
        if (isLeaderFenceLost(e)) throw e;
        this.d.logger.warn({ instance_id: r.id, err: e instanceof Error ? e.message : e }, 'FT step failed; retried next tick');
      }
    }
    for (const [s, n] of counts) this.m.servers.set({ ft_state: s }, n);
    const now = this.d.nowMs();
    if (!this.checkingStreams && now - this.streamsCheckedAtMs >= (this.d.streamCheckEveryMs ?? 2000)) {
      this.checkingStreams = true;
      this.streamsCheckedAtMs = now;
      const up = (id: string) => h(id) === 'up';
      const pairs = instances.filter((r) => r.ft?.state === 'protected' && up(r.hostId) && !!r.ft.secondaryHostId && up(r.ft.secondaryHostId));
      void this.checkStreams(pairs, up).finally(() => (this.checkingStreams = false));
    }
  }

  /**
   * Both hosts up but the stream between them broken (a cut link, the standby lost by its agent): the
   * primary says so (`ft_stream_lost`) and holds its output. The pair drops that secondary (generation
   * + 1, the primary goes on alone) and is protected again by the next ticks. Background, not awaited
   * by the tick: an agent slow to answer does not stall HA.
   */
  private async checkStreams(pairs: readonly InstanceRecord[], reachable: (hostId: string) => boolean): Promise<void> {
    const byHost = new Map<string, InstanceRecord[]>();
    for (const r of pairs) byHost.set(r.hostId, [...(byHost.get(r.hostId) ?? []), r]);
    for (const [hostId, rs] of byHost) {
      try {
        const runtimes = new Map((await this.d.agents.listInstances(hostId)).map((rt) => [rt.instanceId, rt]));
        for (const r of rs) {
          const rt = runtimes.get(r.id);
          if (rt?.ftStreamLost && Number(rt.ftGeneration) === r.ft!.generation) await this.unprotect(r, r.ft!, r.ft!.generation + 1, 'drop_secondary', reachable);
        }
      } catch (e) {
        this.d.logger.warn({ host_id: hostId, err: e instanceof Error ? e.message : e }, 'FT stream check failed; retried');
      }
    }
  }

  /** Claims a secondary host and records `starting` (generation + 1), then synchronises in the background. */
  private async protect(r: InstanceRecord, ft: FtPair): Promise<void> {
    const secondary = await claimElsewhere({ instances: this.d.instances, placement: this.d.placement, serverGroups: this.d.serverGroups }, r, '#ft', { fence: this.d.leaderFence }).catch((e: unknown) => {
      this.retryAt.set(r.id, this.d.nowMs() + (this.d.retryAfterMs ?? 5000));
      throw e;
    });
    const next = await this.cas(r.id, ft.generation, (cur) => ({ ...cur, state: 'starting', generation: ft.generation + 1, secondaryHostId: secondary }));
    if (!next) {
      await this.d.allocations.release(secondary, ftConsumer(r.id), this.d.leaderFence);
      return;
    }
    this.synchronise(next, next.ft!);
  }

  /** Standby copy defined, primary started (initial copy + first checkpoint acknowledged) -> protected. Background; one at a time per server. */
  private synchronise(r: InstanceRecord, ft: FtPair): void {
    if (this.syncing.has(r.id) || !ft.secondaryHostId) return;
    this.syncing.add(r.id);
    const secondaryHostId = ft.secondaryHostId;
    const log = this.d.logger.child({ instance_id: r.id, secondary_host_id: secondaryHostId, ft_generation: ft.generation });
    void (async () => {
      try {
        const sec = await this.d.agents.host(secondaryHostId);
        await this.d.agents.ftPrepareSecondary(sec, r.id, ft.generation, this.d.instanceSpec(r));
        await this.d.agents.ftStartPrimary(r.hostId, r.id, { ftGeneration: ft.generation, secondaryHostId, secondaryEndpoint: sec.agentEndpoint, secondaryEpoch: sec.epoch, epochMs: this.d.epochMs });
        const now = this.d.nowMs();
        const done = await this.cas(r.id, ft.generation, (cur) => (cur.state === 'starting' ? { ...cur, state: 'protected', unprotectedSinceMs: undefined } : undefined), false);
        if (done) {
          if (ft.unprotectedSinceMs !== undefined) this.m.unprotected.inc(Math.max(0, now - ft.unprotectedSinceMs) / 1000);
          log.info('FT protected');
        }
      } catch (e) {
        log.warn({ err: e instanceof Error ? e.message : e }, 'FT synchronisation failed: secondary removed, retried later');
        this.retryAt.set(r.id, this.d.nowMs() + (this.d.retryAfterMs ?? 5000));
        const cur = await this.d.instances.find(r.id).catch(() => undefined);
        if (cur?.ft?.generation === ft.generation && cur.ft.state === 'starting') await this.unprotect(cur, cur.ft, ft.generation + 1, 'drop_secondary', () => true).catch(() => undefined);
      } finally {
        this.syncing.delete(r.id);
      }
    })();
  }

  /**
   * The secondary goes live (its generation won): promoted on its host, the instance moved there with
   * its ports and claim, the old claim released -> need_secondary. Idempotent (a new leader finishes it).
   */
  private async failover(r: InstanceRecord, ft: FtPair, lastHeartbeatAtMs?: number): Promise<void> {
    const to = ft.secondaryHostId;
    if (!to) return;
    const from = r.hostId;
    if (from !== to) {
      await this.d.agents.ftPromote(to, r.id, ft.generation);
      const zone = (await this.d.placement.zonesOf([to])).get(to) ?? r.availabilityZone;
      const moved = await this.d.transition(
        r.id,
        (cur) => (cur.ft?.generation !== ft.generation || cur.hostId !== from ? undefined : { ...cur, hostId: to, availabilityZone: zone, vmState: 'active', powerState: 'running', taskState: null, taskStartedAtMs: this.d.nowMs() }),
        this.d.leaderFence,
      );
      if (!moved || moved.hostId !== to) return;
      if (lastHeartbeatAtMs) this.m.failoverSeconds.observe(Math.max(0, this.d.nowMs() - lastHeartbeatAtMs) / 1000);
      this.m.failovers.inc({ result: 'promoted' });
      this.d.logger.warn({ instance_id: r.id, from, to, ft_generation: ft.generation }, 'FT failover: the secondary is live');
    }
    const cur = (await this.d.instances.find(r.id)) ?? r;
    const net = await this.d.peers.network();
    const deviceOwner = `compute:${cur.availabilityZone}`;
    for (const p of cur.ports) await net.bindPort({ portId: p.portId, hostId: to, deviceId: cur.id, deviceOwner });
    if (from !== to) await this.d.allocations.release(from, r.id, this.d.leaderFence);
    await this.d.allocations.move(to, ftConsumer(r.id), r.id);
    await this.cas(r.id, ft.generation, (c) => (c.state === 'failing_over' ? { ...c, state: 'need_secondary', generation: ft.generation + 1, secondaryHostId: undefined, unprotectedSinceMs: this.d.nowMs() } : undefined));
  }

  /** The pair loses its secondary (generation moves to `generation`): the primary goes on alone, the standby and its claim go. */
  private async unprotect(r: InstanceRecord, ft: FtPair, generation: number, why: 'drop_secondary' | 'give_up_to_ha', reachable: (hostId: string) => boolean): Promise<void> {
    const won = await this.cas(r.id, ft.generation, (cur) => ({ ...cur, state: 'need_secondary', generation, secondaryHostId: undefined, unprotectedSinceMs: cur.unprotectedSinceMs ?? this.d.nowMs() }));
    if (!won) return;
    if (why === 'give_up_to_ha') this.m.failovers.inc({ result: 'to_ha' });
    this.d.logger.warn({ instance_id: r.id, secondary_host_id: ft.secondaryHostId, why }, 'FT secondary dropped: the server runs unprotected until a new one is made');
    // A host that is down gets no command (it would only wait for the deadline); its copy is destroyed when it registers again.
    if (reachable(r.hostId)) await quietly(this.d.agents.ftStop(r.hostId, r.id, generation));
    if (ft.secondaryHostId) {
      if (reachable(ft.secondaryHostId)) await quietly(this.d.agents.ftStop(ft.secondaryHostId, r.id, generation));
      await this.d.allocations.release(ft.secondaryHostId, ftConsumer(r.id), this.d.leaderFence);
    }
  }

  /**
   * Compare-and-set of the FT pair from generation `expected` (the role VMware FT's shared-storage
   * test-and-set plays): `mutate` sees the pair only while it still holds `expected`.
   * @returns the instance as written, or undefined when another decision moved the generation first
   */
  private async cas(id: string, expected: number, mutate: (ft: FtPair) => FtPair | undefined, fenced = true): Promise<InstanceRecord | undefined> {
    let won = false;
    const next = await this.d.transition(
      id,
      (cur) => {
        won = false;
        if (!cur.ft || cur.ft.generation !== expected) return undefined;
        const ft = mutate(cur.ft);
        if (!ft) return undefined;
        won = true;
        return { ...cur, ft: ft.generation === expected ? ft : casGeneration(cur.ft, expected, ft) };
      },
      fenced ? this.d.leaderFence : undefined,
    );
    return won ? next : undefined;
  }
}

async function quietly(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isMinicloudError(e)) throw e;
  }
}
