import { planPowerSync, powerSyncAppliesTo, type InstanceRecord, type InventoryVm, type PowerSyncAction, type PowerSyncPlan, type SyncedInstance } from '@minicloud/domain-compute';
import type { agent } from '@minicloud/proto';
import type { Logger } from '@minicloud/platform-logging';
import { Counter, type Registry } from '@minicloud/platform-metrics';
import type { Redis } from '@minicloud/platform-state';
import { isLeaderFenceLost, isTransientError, KeyedWorkQueue, type LeaderFence } from '@minicloud/platform-lifecycle';
import { powerStateFromProto } from '../proto-states';
import { Keys } from '../store/keys';
import type { HostRecord, HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import { TERMINAL_MIGRATION_STATUSES, type MigrationStore } from '../store/migration-store';
import type { AgentClient } from './agent-client';
import type { HostMonitor } from './host-monitor';

/** The instance actions log's user for what the power sync does (Nova's periodic task runs as no user). */
export const POWER_SYNC_USER = 'power-sync';

/** Stores, the agent command client, the work queue and settings that {@link PowerSync} uses. */
export interface PowerSyncDeps {
  hosts: Pick<HostStore, 'find' | 'list'>;
  instances: Pick<InstanceStore, 'list' | 'getMany' | 'startAction'>;
  migrations: Pick<MigrationStore, 'list'>;
  /** HA's open evacuations (Keys.evacuations). */
  redis: Pick<Redis, 'smembers'>;
  /** Latest heartbeat inventory per host (this replica's memory). */
  monitor: Pick<HostMonitor, 'latestInventory'>;
  /** The controller's command client (ListInstances, destroy). */
  agents: Pick<AgentClient, 'inventory' | 'destroy'>;
  logger: Logger;
  registry: Registry;
  nowMs: () => number;
  /** CAS transition that publishes instance.state_changed (Conductor.transition); `fence` makes it a leader write. */
  transition: (id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, fence?: LeaderFence) => Promise<InstanceRecord | undefined>;
  /**
   * The leader lease and this replica's fencing token: the corrections of a sync the leader's periodic
   * check asked for land only under that token (a registration's sync, which any replica runs, is not
   * a leader write). Unset in tests without an election.
   */
  leaderFence?: LeaderFence;
  /** Hands an instance to the conductor's work queue (a respawn runs as a start). */
  enqueue: (instanceId: string) => void;
  /** Nova's resume_guests_state_on_host_boot (config RESUME_GUESTS_STATE_ON_HOST_BOOT). */
  resumeGuestsStateOnHostBoot: boolean;
  /** Host syncs run at once by this replica (default 4). */
  concurrency?: number;
}

/**
 * The controller's power sync (Nova's `_sync_power_states`, level-triggered as controller-runtime):
 * makes the records of a host's instances agree with the VMs its agent holds. A host is synced when
 * its agent registers (`hostRegistered`, any replica) and when the leader's periodic
 * `checkReports` finds that a heartbeat's inventory disagrees with the records. A sync re-reads
 * everything in the order the decision needs (libs/domain/compute power-sync.ts): the host's records,
 * then the agent's ListInstances (the truth, newer than any heartbeat), then the owners of its VMs,
 * HA's evacuations and the open migrations; it decides with `planPowerSync` and applies each change
 * only while the record still says what the decision saw. Running it twice is harmless.
 *
 * Changes: a lost guest is stopped (vm_state stopped, power_state nostate, action `stop` by
 * `power-sync`), or with resume_guests_state_on_host_boot started again on the host (task_state
 * powering_on, action `start`; the conductor re-creates the guest from its record when the agent has
 * none); a differing power state is recorded; a VM no record owns is destroyed on the agent.
 */
export class PowerSync {
  /** Host ids to sync (deduplicated; a failure retries with backoff). */
  readonly queue: KeyedWorkQueue;
  private readonly actions: Counter<string>;
  /** Hosts whose queued sync the leader's periodic check asked for (its corrections are fenced). */
  private readonly leaderRequested = new Set<string>();

  constructor(private readonly d: PowerSyncDeps) {
    this.queue = new KeyedWorkQueue('power-sync', (hostId) => this.syncHost(hostId), { concurrency: d.concurrency ?? 4, logger: d.logger });
    this.actions = new Counter({
      name: 'minicloud_power_sync_actions_total',
      help: 'Changes made by the power sync (stop, respawn, set_power_state, destroy).',
      labelNames: ['action'],
      registers: [d.registry],
    });
  }

  /** An agent registered (new epoch): sync its host against the VMs it holds. */
  hostRegistered(hostId: string): void {
    // Any replica syncs a registration: not a leader write (it re-reads everything it decides on).
    this.leaderRequested.delete(hostId);
    this.queue.enqueue(hostId);
  }

  /**
   * Leader, periodic: compares each host's latest heartbeat inventory with the records and queues a
   * sync of every host where the plan is not empty (the sync itself asks the agent again, so a
   * heartbeat older than a record change only costs one ListInstances). The syncs it queues correct
   * records under the leader's fence. Stops when `signal` (the leadership's) aborts.
   */
  async checkReports(signal?: AbortSignal): Promise<void> {
    const [hosts, records, evacuating] = await Promise.all([this.d.hosts.list(), this.d.instances.list(), this.evacuating()]);
    const owners = new Map(records.map((r) => [r.id, synced(r)]));
    for (const h of hosts) {
      if (signal?.aborted) return;
      const inventory = this.d.monitor.latestInventory(h.hostId);
      if (!inventory) continue;
      const plan = planPowerSync({
        hostId: h.hostId,
        hostState: h.state,
        placedBefore: records.filter((r) => r.hostId === h.hostId).map(synced),
        inventory: inventory.map(inventoryVm),
        ownersAfter: owners,
        evacuating,
        migrating: new Set(),
        resumeGuestsStateOnHostBoot: this.d.resumeGuestsStateOnHostBoot,
      });
      if (plan.actions.length > 0) {
        if (this.d.leaderFence) this.leaderRequested.add(h.hostId);
        this.queue.enqueue(h.hostId);
      }
    }
  }

  /**
   * Work-queue entry: one host's sync (see the class doc).
   * @returns ms to requeue after while the agent has not taken the host's current epoch yet
   * @throws transient agent errors (the queue retries with backoff)
   */
  async syncHost(hostId: string): Promise<number | void> {
    const fence = this.leaderRequested.has(hostId) ? this.d.leaderFence : undefined;
    try {
      const requeue = await this.syncHostOnce(hostId, fence);
      if (requeue === undefined) this.leaderRequested.delete(hostId);
      return requeue;
    } catch (e) {
      if (!isLeaderFenceLost(e)) throw e;
      this.leaderRequested.delete(hostId);
      this.d.logger.warn({ host_id: hostId, err: e.message }, 'power sync dropped: this replica no longer leads (the leader syncs again)');
    }
  }

  private async syncHostOnce(hostId: string, fence: LeaderFence | undefined): Promise<number | void> {
    const host = await this.d.hosts.find(hostId);
    if (!host || !powerSyncAppliesTo(host.state)) return;
    const placedBefore = (await this.d.instances.list()).filter((r) => r.hostId === hostId).map(synced);
    let listed: agent.ListInstancesResponse;
    try {
      listed = await this.d.agents.inventory(host);
    } catch (e) {
      if (isTransientError(e)) throw e;
      this.d.logger.warn({ host_id: hostId, err: e instanceof Error ? e.message : String(e) }, 'power sync: the agent did not list its VMs; host left as recorded');
      return;
    }
    // 0: an agent that does not say. Another epoch: it has not applied this registration yet (or a
    // newer one came meanwhile, which queues its own sync).
    if (listed.epoch !== 0 && listed.epoch !== host.epoch) return listed.epoch < host.epoch ? 200 : undefined;
    const inventory = listed.instances.map(inventoryVm);
    const [owners, evacuating, migrating] = await Promise.all([
      this.d.instances.getMany(inventory.map((vm) => vm.instanceId)),
      this.evacuating(),
      this.migrating(hostId),
    ]);
    const plan = planPowerSync({
      hostId,
      hostState: host.state,
      placedBefore,
      inventory,
      ownersAfter: new Map(owners.map((r) => [r.id, synced(r)])),
      evacuating,
      migrating,
      resumeGuestsStateOnHostBoot: this.d.resumeGuestsStateOnHostBoot,
    });
    await this.apply(host, plan, fence);
  }

  private async apply(host: HostRecord, plan: PowerSyncPlan, fence: LeaderFence | undefined): Promise<void> {
    const done: Record<string, number> = {};
    for (const a of plan.actions) {
      try {
        if (await this.applyOne(host, a, fence)) {
          done[a.kind] = (done[a.kind] ?? 0) + 1;
          this.actions.inc({ action: a.kind });
        }
      } catch (e) {
        if (isLeaderFenceLost(e)) throw e;
        this.d.logger.warn({ host_id: host.hostId, instance_id: a.instanceId, action: a.kind, err: e instanceof Error ? e.message : String(e) }, 'power sync: change not applied; the next sync decides again');
      }
    }
    if (Object.keys(done).length > 0 || plan.skipped.length > 0) {
      this.d.logger.info({ host_id: host.hostId, epoch: host.epoch, done, skipped: plan.skipped.length }, 'power sync');
    }
  }

  /** @returns true when the change was made (the record still said what the decision saw) */
  private async applyOne(host: HostRecord, a: PowerSyncAction, fence: LeaderFence | undefined): Promise<boolean> {
    const now = this.d.nowMs();
    if (a.kind === 'destroy') {
      // false: the agent no longer has it (gone meanwhile), nothing was done.
      const destroyed = await this.d.agents.destroy(host, a.instanceId, { requestId: `power-sync-destroy-${a.instanceId}-${host.epoch}` });
      if (destroyed) this.d.logger.warn({ host_id: host.hostId, instance_id: a.instanceId, why: a.why }, 'power sync: destroyed a VM no record owns on this host');
      return destroyed;
    }
    const unchanged = (cur: InstanceRecord) =>
      cur.hostId === host.hostId && cur.taskState === null && !cur.resize && cur.vmState === a.from.vmState && cur.powerState === a.from.powerState;
    let changed: InstanceRecord | undefined;
    const requestId = `req-power-sync-${a.instanceId}-${now}`;
    await this.d.transition(a.instanceId, (cur) => {
      if (!unchanged(cur)) return undefined;
      if (a.kind === 'set_power_state') changed = { ...cur, powerState: a.powerState };
      else if (a.kind === 'stop') changed = { ...cur, vmState: 'stopped', powerState: 'nostate', taskStartedAtMs: now };
      else changed = { ...cur, taskState: 'powering_on', powerState: 'nostate', actionRequestId: requestId, taskStartedAtMs: now };
      return changed;
    }, fence);
    if (!changed) return false;
    const r = changed;
    if (a.kind === 'stop') {
      const message = `VM not found on host ${host.hostId} (its hypervisor lost it): power_state nostate, vm_state stopped`;
      await this.d.instances.startAction(r.id, { requestId, action: 'stop', userId: POWER_SYNC_USER, projectId: r.projectId, startMs: now, finishMs: now, result: 'Success', message });
      this.d.logger.warn({ host_id: host.hostId, instance_id: r.id, was: a.from }, 'power sync: VM lost by its host; instance stopped');
    } else if (a.kind === 'respawn') {
      const message = `resume_guests_state_on_host_boot: VM not found on host ${host.hostId}; started again from its record`;
      await this.d.instances.startAction(r.id, { requestId, action: 'start', userId: POWER_SYNC_USER, projectId: r.projectId, startMs: now, result: '', message });
      this.d.logger.warn({ host_id: host.hostId, instance_id: r.id }, 'power sync: VM lost by its host; starting it again there (resume_guests_state_on_host_boot)');
      this.d.enqueue(r.id);
    }
    return true;
  }

  private async evacuating(): Promise<Set<string>> {
    return new Set(await this.d.redis.smembers(Keys.evacuations()));
  }

  private async migrating(hostId: string): Promise<Set<string>> {
    return new Set((await this.d.migrations.list({ hostId })).filter((m) => !TERMINAL_MIGRATION_STATUSES.has(m.status)).map((m) => m.instanceId));
  }
}

function synced(r: InstanceRecord): SyncedInstance {
  return { id: r.id, hostId: r.hostId, vmState: r.vmState, taskState: r.taskState, powerState: r.powerState, resize: r.resize };
}

function inventoryVm(vm: { instanceId: string; powerState: agent.HostInstance['powerState']; migrating: boolean }): InventoryVm {
  return { instanceId: vm.instanceId, powerState: powerStateFromProto(vm.powerState), migrating: vm.migrating };
}
