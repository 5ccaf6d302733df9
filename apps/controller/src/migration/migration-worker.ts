import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { cannotMigrateGuestCpu, guestCpuOnHost, type GuestCpu } from '@minicloud/domain-hypervisor';
import { compute, type agent, type events } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import { isLeaderFenceLost, type LeaderFence } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import { isHostDown, type InstanceRecord } from '@minicloud/domain-compute';
import type { AgentClient } from '../agent/agent-client';
import type { Peers } from '../peers';
import type { AllocationStore } from '../store/allocation-store';
import type { HostRecord, HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { ServerGroupStore } from '../store/server-group-store';
import { TERMINAL_MIGRATION_STATUSES, type MigrationRecord, type MigrationStatus, type MigrationStore } from '../store/migration-store';
import type { Placement } from '../placement/placement';
import { claimElsewhere, claimOnChosenHost, isHostRefusal } from '../placement/relocation';

/** Allocation consumer of the destination claim while a live migration runs (the source keeps `<id>`). */
export const migrationConsumer = (instanceId: string): string => `${instanceId}#migration`;

/** Knobs handed to the source agent's `migrate_out` (docs/agent-protocol.md "Live migration"). */
export interface MigrationLimits {
  /** Mbit/s; 0 = QEMU's 128 MiB/s capped at the NIC. */
  maxBandwidthMbps: number;
  /** 0 = QEMU's 300 ms. */
  maxDowntimeMs: number;
  autoConverge: boolean;
  /** 0 = Nova's 800 s per GiB of RAM. */
  timeoutSeconds: number;
  /** Nova's live_migration_permit_post_copy; default false. */
  permitPostCopy?: boolean;
  /** Nova's live_migration_timeout_action; default abort. */
  timeoutAction?: 'abort' | 'force_complete';
}

export interface MigrationWorkerDeps {
  instances: InstanceStore;
  hosts: HostStore;
  allocations: AllocationStore;
  placement: Placement;
  migrations: MigrationStore;
  serverGroups: ServerGroupStore;
  peers: Peers;
  agents: AgentClient;
  logger: Logger;
  nowMs: () => number;
  limits: MigrationLimits;
  /** Hosts asked at most per live migration the scheduler places (Nova's migrate_max_retries + 1); default 3. */
  maxAttempts?: number;
  /** Conductor's CAS update + InstanceStateChanged; `fence` makes it a leader write. */
  transition(id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, fence?: LeaderFence): Promise<InstanceRecord | undefined>;
  /**
   * The leader lease and this replica's fencing token, for the leader's `watch()`: the moves and
   * rollbacks it makes land only under that token. Unset in tests without an election.
   */
  leaderFence?: LeaderFence;
  /** Conductor's agent spec of an instance. */
  instanceSpec(r: InstanceRecord): DeepPartial<agent.InstanceSpec>;
  /** Moves the instance's volume attachments to its current host (conductor.prepareVolumes); absent: not moved. */
  prepareVolumes?(r: InstanceRecord): Promise<InstanceRecord>;
}

/** Who asked for a migration (the instance action's owner). */
export interface MigrationRequester {
  requestId: string;
  userId: string;
  projectId: string;
}

/**
 * Controller side of live migration (contract in docs/agent-protocol.md "Live migration"):
 * claim on the destination (consumer `<id>#migration`), task_state MIGRATING, a migration record,
 * `prepare_migrate_in` on the destination then `migrate_out` on the source. The outcome arrives as
 * events: progress (`onProgress`) fills the record and rolls back on failed/cancelled; the
 * destination's `migrated_in` report (`onPowerReport`) moves the instance (host, ports, claims).
 * `watch()` (leader, periodic) resolves migrations whose instance, source or destination vanished.
 */
export class MigrationWorker {
  constructor(private readonly d: MigrationWorkerDeps) {}

  /**
   * Starts a live migration of `r` to `destHostId` (checked and claimed) or to a host the scheduler
   * picks excluding the source. Returns once both agents accepted their commands.
   * @throws FailedPreconditionError unless ACTIVE (running or paused) with no task; InvalidArgumentError
   *   ('migrate.host_id') for the source itself or a host that is not up and enabled; NotFoundError
   *   ('host'); ResourceExhaustedError (no_valid_host, NoValidHostError from the scheduler) when nothing fits; agent errors (rolled back);
   *   LeaderFenceLostError (with `fence`) when this replica no longer leads (nothing started)
   * @param fence a leader loop's migration (DRS): the destination claim and the instance's move into
   *   task_state migrating land only under this replica's fencing token, before any agent is commanded
   */
  async startLive(r: InstanceRecord, destHostId: string | undefined, who: MigrationRequester, fence?: LeaderFence): Promise<MigrationRecord> {
    checkLiveMigratable(r);
    const source = await this.d.agents.host(r.hostId);
    const guestCpu = guestCpuOf(r, source);
    let dest = await this.claimDestination(r, guestCpu, destHostId, fence);
    const now = this.d.nowMs();
    const m: MigrationRecord = {
      id: randomUUID(),
      instanceId: r.id,
      migrationType: 'live-migration',
      sourceHostId: source.hostId,
      destHostId: dest.hostId,
      status: 'queued',
      rounds: 0,
      transferredBytes: 0,
      remainingBytes: 0,
      totalTimeMs: 0,
      downtimeMs: 0,
      cpuThrottlePercentage: 0,
      postCopy: false,
      error: '',
      requestId: who.requestId,
      createdAtMs: now,
      updatedAtMs: now,
    };
    let entered = false;
    try {
      const next = await this.d.transition(r.id, (cur) => {
        checkLiveMigratable(cur);
        if (cur.hostId !== source.hostId) throw new FailedPreconditionError(`server ${r.id} moved meanwhile`, 'instance_moved');
        return { ...cur, taskState: 'migrating', taskStartedAtMs: now, actionRequestId: who.requestId };
      }, fence);
      if (!next) throw new NotFoundError('server', r.id);
      entered = true;
      await this.d.migrations.create(m);
      await this.d.instances.startAction(r.id, { requestId: who.requestId, action: 'live-migration', userId: who.userId, projectId: who.projectId, startMs: now, result: '', message: '' });
      await this.setStatus(m.id, 'preparing');
      const spec = this.d.instanceSpec({ ...next, guestCpu: next.guestCpu ?? { ...guestCpu, flags: [...guestCpu.flags] } });
      // The scheduler's pick may refuse (its memory went low since its last heartbeat, or the claim and the
      // host disagree): as Nova's live-migration task tries alternates, another host is claimed and asked
      // (the operator's own choice is not replaced).
      for (const refused: string[] = []; ; ) {
        try {
          await this.d.agents.prepareMigrateIn(dest, r.id, m.id, spec);
          break;
        } catch (e) {
          if (destHostId || !isHostRefusal(e) || refused.length + 1 >= (this.d.maxAttempts ?? 3)) throw e;
          refused.push(dest.hostId);
          this.d.logger.warn({ instance_id: r.id, migration_id: m.id, host_id: dest.hostId, err: e instanceof Error ? e.message : String(e) }, 'live migration destination refused; trying another host');
          await this.sendAbort(dest, r.id, m.id);
          await this.d.allocations.release(dest.hostId, migrationConsumer(r.id), fence);
          dest = await this.claimDestination(r, guestCpu, undefined, fence, refused);
          const to = dest.hostId;
          await this.d.migrations.update(m.id, (cur) => ({ ...cur, destHostId: to }), this.d.nowMs());
        }
      }
      await this.d.agents.migrateOut(source, r.id, m.id, {
        destHostId: dest.hostId,
        destEndpoint: dest.agentEndpoint,
        destEpoch: dest.epoch,
        maxBandwidthMbps: this.d.limits.maxBandwidthMbps,
        maxDowntimeMs: this.d.limits.maxDowntimeMs,
        autoConverge: this.d.limits.autoConverge,
        postCopy: false,
        timeoutSeconds: this.d.limits.timeoutSeconds,
        permitPostCopy: this.d.limits.permitPostCopy ?? false,
        timeoutAction: this.d.limits.timeoutAction ?? 'abort',
      });
      return (await this.setStatus(m.id, 'running', ['queued', 'preparing'])) ?? m;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.d.logger.warn({ instance_id: r.id, migration_id: m.id, err: message }, 'live migration could not start');
      // No agent was commanded before the fenced move: a stale leader has nothing to abort.
      if (!isLeaderFenceLost(e)) await this.sendAbort(dest, r.id, m.id);
      if (entered) await this.rollback(m.id, r.id, 'failed', `could not start: ${message}`);
      else await this.d.allocations.release(dest.hostId, migrationConsumer(r.id));
      throw e;
    }
  }

  /**
   * Nova's abort of a running live migration (DELETE /servers/{id}/migrations/{id}): the source
   * agent stops its loop and tells the destination; the guest keeps running on the source. The
   * outcome (cancelled, then the rollback of the destination's claim) arrives as the source's
   * progress report, as for any other cancelled migration.
   * @throws as {@link runningLiveMigration}; agent errors (UNAVAILABLE when the source is unreachable)
   */
  async abort(r: InstanceRecord, migrationId: string): Promise<MigrationRecord> {
    const m = await this.runningLiveMigration(r, migrationId, 'abort');
    await this.d.agents.abortMigration(m.sourceHostId, r.id, m.id);
    this.d.logger.info({ instance_id: r.id, migration_id: m.id }, 'live migration abort requested');
    return m;
  }

  /**
   * Nova's force_complete of a running live migration: the source ends it at its next step, with
   * post-copy when it is permitted (live_migration_permit_post_copy), else by pausing the guest
   * until everything left is copied (libvirt's suspend, as Nova does).
   * @throws as {@link runningLiveMigration}; FailedPreconditionError ('migration_not_running') from
   *   the source once it is past the switch-over; agent errors
   */
  async forceComplete(r: InstanceRecord, migrationId: string): Promise<MigrationRecord> {
    const m = await this.runningLiveMigration(r, migrationId, 'force complete');
    await this.d.agents.forceCompleteMigration(m.sourceHostId, r.id, m.id);
    this.d.logger.info({ instance_id: r.id, migration_id: m.id }, 'live migration force-complete requested');
    return m;
  }

  /**
   * The live migration `migrationId` of `r`, which must be running (both agents commanded, not yet
   * switched over). Nova (before microversion 2.65) likewise refuses a queued or preparing one.
   * @throws NotFoundError ('migration') unless it is a live migration of `r`;
   *   FailedPreconditionError ('migration_not_running') in any other status
   */
  private async runningLiveMigration(r: InstanceRecord, migrationId: string, verb: string): Promise<MigrationRecord> {
    const m = migrationId ? await this.d.migrations.find(migrationId) : undefined;
    if (!m || m.instanceId !== r.id || m.migrationType !== 'live-migration') throw new NotFoundError('migration', migrationId);
    if (m.status !== 'running') {
      throw new FailedPreconditionError(`Migration ${m.id} state of instance ${r.id} is ${m.status}. Cannot ${verb} while the migration is in this state.`, 'migration_not_running');
    }
    return m;
  }

  /** Applies a source agent's MigrationProgressed: counters, then rollback on failed/cancelled. */
  async onProgress(p: compute.Migration): Promise<void> {
    const status = p.status as MigrationStatus;
    const next = await this.d.migrations.update(
      p.id,
      (cur) =>
        TERMINAL_MIGRATION_STATUSES.has(cur.status)
          ? undefined
          : {
              ...cur,
              // Terminal statuses are set by complete()/rollback() (completed is confirmed by the
              // destination's migrated_in report, not by the source).
              status: !status || TERMINAL_MIGRATION_STATUSES.has(status) ? cur.status : status,
              rounds: p.rounds,
              transferredBytes: Number(p.transferredBytes),
              remainingBytes: Number(p.remainingBytes),
              totalTimeMs: Number(p.totalTimeMs),
              downtimeMs: Number(p.downtimeMs),
              cpuThrottlePercentage: p.cpuThrottlePercentage,
              postCopy: p.postCopy,
              error: p.error || cur.error,
            },
      this.d.nowMs(),
    );
    if (!next || TERMINAL_MIGRATION_STATUSES.has(next.status)) return;
    if (status === 'failed' || status === 'cancelled') await this.rollback(next.id, next.instanceId, status, p.error || status);
    else if (status === 'error') await this.resolveSwitchOver(next);
  }

  /**
   * Hook for the conductor's power-report consumer. Handles the reports a migration produces and
   * @returns true when the report was consumed (the conductor must not apply it):
   * - `migrated_in` from the destination: instance moves there (host, ports, claims), record completed;
   * - `migrated_out` from the source: the copy left, the instance is NOT deleted (ignored);
   * - `migration_aborted` from the source: the VM stays there (running), rollback;
   * - any other report from the destination while migrating (its incoming copy): ignored.
   */
  async onPowerReport(ev: events.InstancePowerStateReported, r: InstanceRecord): Promise<boolean> {
    if (ev.reason === 'migrated_out') return true;
    if (r.taskState !== 'migrating' && ev.reason !== 'migrated_in' && ev.reason !== 'migration_aborted') return false;
    const m = (await this.d.migrations.active(r.id)) ?? (ev.reason === 'migrated_in' ? await this.latest(r.id) : undefined);
    if (!m) return ev.reason === 'migrated_in' || (ev.reason === 'migration_aborted' && ev.hostId !== r.hostId);
    if (ev.hostId === m.destHostId) {
      if (ev.reason === 'migrated_in') await this.complete(m);
      return true;
    }
    if (ev.hostId === m.sourceHostId && ev.reason === 'migration_aborted') {
      await this.rollback(m.id, r.id, 'cancelled', 'migration aborted on the source');
      await this.d.transition(r.id, (cur) => (cur.hostId === ev.hostId && cur.powerState !== 'running' && ev.powerState === compute.PowerState.POWER_STATE_RUNNING ? { ...cur, powerState: 'running' } : undefined));
      return true;
    }
    return false;
  }

  /**
   * Leader loop: resolves active migrations left hanging. Instance gone, deleting or moved by HA ->
   * failed (destination claim released); source host down -> failed and task_state cleared so HA
   * restarts the VM; status `error` (switch-over unresolved) -> {@link resolveSwitchOver}. Its writes
   * carry the leader's fence; it stops when `signal` (the leadership's) aborts or a write is refused.
   */
  async watch(signal?: AbortSignal): Promise<void> {
    const fence = this.d.leaderFence;
    for (const m of await this.d.migrations.list()) {
      if (signal?.aborted) return;
      if (TERMINAL_MIGRATION_STATUSES.has(m.status)) continue;
      try {
        const r = await this.d.instances.find(m.instanceId);
        if (!r || r.taskState === 'deleting' || r.hostId !== m.sourceHostId || (r.taskState !== 'migrating' && m.status !== 'queued')) {
          if (r && r.hostId === m.destHostId && r.taskState === 'migrating') await this.complete(m, fence);
          else await this.rollback(m.id, m.instanceId, 'failed', 'instance left the migration (deleted, or restarted elsewhere by HA)', fence);
          continue;
        }
        const src = await this.d.hosts.find(m.sourceHostId);
        if (!src || isHostDown(src.state)) {
          await this.rollback(m.id, m.instanceId, 'failed', `source host ${m.sourceHostId} is down`, fence);
          continue;
        }
        if (m.status === 'error') await this.resolveSwitchOver(m, fence);
      } catch (e) {
        if (isLeaderFenceLost(e)) {
          this.d.logger.warn({ migration_id: m.id, err: e.message }, 'migration watch stopped: this replica no longer leads');
          return;
        }
        this.d.logger.warn({ migration_id: m.id, err: e instanceof Error ? e.message : e }, 'migration watch failed');
      }
    }
  }

  /**
   * ServerAction migrate on every ACTIVE instance of `hostId`, `parallel` at a time (maintenance
   * drain). Instances nothing fits for stay (logged). @returns ids migrated away
   */
  async drainHost(hostId: string, parallel = 2, timeoutMs = 600_000): Promise<string[]> {
    const moved: string[] = [];
    const queue = (await this.d.instances.list()).filter((r) => r.hostId === hostId && r.vmState === 'active' && r.taskState === null);
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        try {
          const m = await this.startLive(r, undefined, { requestId: `drain-${randomUUID()}`, userId: 'minicloud', projectId: r.projectId });
          const deadline = this.d.nowMs() + timeoutMs;
          let cur = m;
          while (!TERMINAL_MIGRATION_STATUSES.has(cur.status) && this.d.nowMs() < deadline) {
            await new Promise((res) => setTimeout(res, 200));
            cur = (await this.d.migrations.find(m.id)) ?? { ...cur, status: 'failed' };
          }
          if (cur.status === 'completed') moved.push(r.id);
        } catch (e) {
          this.d.logger.warn({ instance_id: r.id, host_id: hostId, err: e instanceof Error ? e.message : e }, 'drain: instance stays');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
    return moved;
  }

  // ---- steps ----

  /** Switch-over: instance on the destination, ports bound there (the FDB follows), volume attachments moved there, claims moved. Idempotent. */
  /** `fence`: the leader's watch (the instance's move to the destination is the fenced write; the rest follows it). */
  private async complete(m: MigrationRecord, fence?: LeaderFence): Promise<void> {
    const now = this.d.nowMs();
    // A destination the operator chose may be in another zone: the instance's zone is its host's.
    const zone = (await this.d.placement.zonesOf([m.destHostId])).get(m.destHostId)!;
    const moved = await this.d.transition(m.instanceId, (cur) =>
      cur.taskState === 'deleting' || (cur.hostId !== m.sourceHostId && cur.hostId !== m.destHostId)
        ? undefined
        : cur.hostId === m.destHostId && cur.taskState === null
          ? undefined
          : { ...cur, hostId: m.destHostId, availabilityZone: zone, vmState: 'active', taskState: null, powerState: 'running', taskStartedAtMs: now },
      fence,
    );
    const r = moved ?? (await this.d.instances.find(m.instanceId));
    if (!r || r.hostId !== m.destHostId) return;
    const net = await this.d.peers.network();
    const deviceOwner = `compute:${r.availabilityZone}`;
    for (const p of r.ports) await net.bindPort({ portId: p.portId, hostId: m.destHostId, deviceId: r.id, deviceOwner });
    // The volume attachments follow (Nova re-points them at the destination after the switch-over).
    await this.d.prepareVolumes?.(r);
    await this.d.allocations.release(m.sourceHostId, r.id);
    await this.d.allocations.move(m.destHostId, migrationConsumer(r.id), r.id);
    const done = await this.d.migrations.update(m.id, (cur) => (cur.status === 'completed' ? undefined : { ...cur, status: 'completed', remainingBytes: 0 }), this.d.nowMs());
    if (done) await this.d.instances.finishAction(r.id, m.requestId, 'Success', '', this.d.nowMs());
    this.d.logger.info({ instance_id: r.id, migration_id: m.id, from: m.sourceHostId, to: m.destHostId }, 'live migration completed');
  }

  /** The VM stays on the source: destination claim released, task_state none, record terminal, action Error. `fence`: the leader's watch. */
  private async rollback(migrationId: string, instanceId: string, status: 'failed' | 'cancelled', error: string, fence?: LeaderFence): Promise<void> {
    const m = await this.d.migrations.find(migrationId);
    if (!m) return;
    await this.d.allocations.release(m.destHostId, migrationConsumer(instanceId), fence);
    await this.d.transition(instanceId, (cur) => (cur.taskState === 'migrating' && cur.hostId === m.sourceHostId ? { ...cur, taskState: null, taskStartedAtMs: this.d.nowMs() } : undefined), fence);
    const ended = await this.d.migrations.update(migrationId, (cur) => (TERMINAL_MIGRATION_STATUSES.has(cur.status) ? undefined : { ...cur, status, error }), this.d.nowMs());
    const stillThere = await this.d.instances.find(instanceId);
    if (stillThere && ended?.status === status && ended.error === error) await this.d.instances.finishAction(instanceId, m.requestId, 'Error', error, this.d.nowMs());
    this.d.logger.warn({ instance_id: instanceId, migration_id: migrationId, status, error }, 'live migration rolled back');
  }

  /**
   * Source said `complete` but never heard `resumed`: if the destination runs the VM, complete
   * (and destroy the paused source copy); if the destination is down, abort on the source (it resumes
   * there and reports `migration_aborted`). Otherwise wait for the next watch tick.
   */
  private async resolveSwitchOver(m: MigrationRecord, fence?: LeaderFence): Promise<void> {
    const [src, dst] = await Promise.all([this.d.hosts.find(m.sourceHostId), this.d.hosts.find(m.destHostId)]);
    if (dst && !isHostDown(dst.state)) {
      const runs = await this.d.agents
        .listInstances(dst)
        .then((instances) => instances.some((i) => i.instanceId === m.instanceId && i.powerState === compute.PowerState.POWER_STATE_RUNNING))
        .catch(() => false);
      if (!runs) return;
      await this.complete(m, fence);
      if (src) await this.destroyQuietly(src, m.instanceId, m.id);
      return;
    }
    if (src) await this.sendAbort(src, m.instanceId, m.id);
  }

  // ---- helpers ----

  /**
   * The destination's claim: the operator's host after the guest CPU check (Nova's
   * check_can_live_migrate_destination: an incompatible CPU is a 400), else the scheduler's pick among
   * hosts the guest's CPU can move to (the CpuModelFilter).
   */
  private async claimDestination(r: InstanceRecord, guestCpu: GuestCpu, destHostId: string | undefined, fence?: LeaderFence, ignoreHostIds?: readonly string[]): Promise<HostRecord> {
    if (destHostId) {
      const chosen = await this.d.hosts.find(destHostId);
      const why = chosen && chosen.hostId !== r.hostId ? cannotMigrateGuestCpu(guestCpu, { cpuModel: chosen.profile.cpuModel, cpuFlags: chosen.profile.cpuFlags ?? [] }) : undefined;
      if (why) throw new InvalidArgumentError('migrate.host_id', `host ${destHostId} cannot take server ${r.id}: ${why}`);
      return claimOnChosenHost(this.d, r, destHostId, migrationConsumer(r.id), fence);
    }
    const hostId = await claimElsewhere(this.d, r, '#migration', { fence, guestCpu, ignoreHostIds });
    if (!hostId) throw new ResourceExhaustedError(`No valid host was found for server ${r.id}`, 'no_valid_host');
    if (hostId === r.hostId) {
      await this.d.allocations.release(hostId, migrationConsumer(r.id));
      throw new ResourceExhaustedError(`No valid host other than the source was found for server ${r.id}`, 'no_valid_host');
    }
    return this.d.agents.host(hostId);
  }

  private async setStatus(id: string, status: MigrationStatus, from?: MigrationStatus[]): Promise<MigrationRecord | undefined> {
    return this.d.migrations.update(id, (cur) => (from && !from.includes(cur.status)) || TERMINAL_MIGRATION_STATUSES.has(cur.status) ? undefined : { ...cur, status }, this.d.nowMs());
  }

  private async latest(instanceId: string): Promise<MigrationRecord | undefined> {
    return (await this.d.migrations.list({ instanceId }))[0];
  }

  private async sendAbort(host: HostRecord, instanceId: string, migrationId: string): Promise<void> {
    try {
      await this.d.agents.abortMigration(host, instanceId, migrationId);
    } catch (e) {
      this.d.logger.info({ host_id: host.hostId, migration_id: migrationId, err: e instanceof Error ? e.message : e }, 'abort_migration not delivered');
    }
  }

  /** The paused source copy left by a completed switch-over (the next watch tick retries a failure). */
  private async destroyQuietly(host: HostRecord, instanceId: string, migrationId: string): Promise<void> {
    try {
      await this.d.agents.destroy(host, instanceId, { requestId: migrationId, step: 'source' });
    } catch {
      this.d.logger.info({ host_id: host.hostId, instance_id: instanceId }, 'source copy not destroyed yet');
    }
  }
}

/**
 * The CPU the guest runs with: the one recorded at its boot, else (booted before it was recorded)
 * host-model on its current host, libvirt's default.
 */
export function guestCpuOf(r: InstanceRecord, source: Pick<HostRecord, 'profile'>): GuestCpu {
  return r.guestCpu ?? guestCpuOnHost({ mode: 'host-model' }, { cpuModel: source.profile.cpuModel, cpuFlags: source.profile.cpuFlags ?? [] });
}

/** Nova: live migration needs vm_state ACTIVE (running) or PAUSED and no task. @throws FailedPreconditionError */
export function checkLiveMigratable(r: InstanceRecord): void {
  const ok = (r.vmState === 'active' || r.vmState === 'paused') && r.taskState === null;
  if (!ok) throw new FailedPreconditionError(`Cannot 'migrate' server ${r.id} while it is in vm_state ${r.vmState}, task_state ${r.taskState ?? 'none'}`, 'instance_invalid_state');
}
