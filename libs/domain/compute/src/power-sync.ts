import type { HostLiveness } from './host-liveness';
import type { PowerState, TaskState, VmState } from './instance';

/**
 * The power sync: the controller's records of one host against what its hypervisor holds (Nova's
 * `ComputeManager._sync_power_states` and `_init_instance` at host start). Pure; the controller
 * reads, decides here, acts (apps/controller/src/agent/power-sync.ts).
 *
 * Read order makes a decision safe against a VM that appears or goes between the reads:
 * `placedBefore` is read BEFORE the inventory is taken (a record that already said "runs here" then
 * had its VM when the inventory was taken, unless the hypervisor lost it), `ownersAfter` AFTER it (a
 * VM that a migration or a rebuild is bringing here already has its record saying so). The
 * controller re-checks each record when it applies a change (compare-and-set).
 */

/** What the sync reads of an instance record. */
export interface SyncedInstance {
  readonly id: string;
  /** Host holding the instance ('' when none). */
  readonly hostId: string;
  readonly vmState: VmState;
  readonly taskState: TaskState | null;
  readonly powerState: PowerState;
  /** A cold migration/resize in progress or awaiting confirm: its guest may be on either host. */
  readonly resize?: { readonly sourceHostId: string; readonly destHostId: string };
}

/** One VM the host's hypervisor holds (agent.v1.HostInstance / InstanceRuntime). */
export interface InventoryVm {
  readonly instanceId: string;
  readonly powerState: PowerState;
  /** It takes part in a live migration on this host (either side): the migration owns it. */
  readonly migrating: boolean;
}

export interface PowerSyncInput {
  readonly hostId: string;
  /** The host's liveness state (HostRecord.state). */
  readonly hostState: HostLiveness;
  /** Records of the instances whose host is `hostId`, read before the inventory was taken. */
  readonly placedBefore: readonly SyncedInstance[];
  /** Every VM the host holds. */
  readonly inventory: readonly InventoryVm[];
  /** Records of the inventory's instances, read after it was taken; a missing id has no record. */
  readonly ownersAfter: ReadonlyMap<string, SyncedInstance>;
  /** Instances with an open HA evacuation (the HA loop moves them). */
  readonly evacuating: ReadonlySet<string>;
  /** Instances with a live migration not yet in a terminal status. */
  readonly migrating: ReadonlySet<string>;
  /** Nova's `resume_guests_state_on_host_boot`: a lost guest that was running is started again. */
  readonly resumeGuestsStateOnHostBoot: boolean;
}

/**
 * One change the sync asks for. `from` is the record's state the decision saw (the controller applies
 * a change only while the record still says so):
 * - `stop`: the hypervisor lost the guest; vm_state stopped, power_state nostate.
 * - `respawn`: the hypervisor lost a guest that was running and the operator asked for guests to be
 *   resumed: start it again on this host from its record (image, flavor, ports, volumes).
 * - `set_power_state`: record the power state the hypervisor has (vm_state unchanged).
 * - `destroy`: a VM no record owns on this host (no record, deleted, or placed on another host).
 */
export type PowerSyncAction =
  | { readonly kind: 'stop'; readonly instanceId: string; readonly from: Pick<SyncedInstance, 'vmState' | 'powerState'> }
  | { readonly kind: 'respawn'; readonly instanceId: string; readonly from: Pick<SyncedInstance, 'vmState' | 'powerState'> }
  | { readonly kind: 'set_power_state'; readonly instanceId: string; readonly powerState: PowerState; readonly from: Pick<SyncedInstance, 'vmState' | 'powerState'> }
  | { readonly kind: 'destroy'; readonly instanceId: string; readonly why: 'no_record' | 'not_placed_here' };

/** Why an instance the sync looked at was left alone. */
export type PowerSyncSkip = 'task_in_progress' | 'evacuating' | 'migrating' | 'resizing';

export interface PowerSyncPlan {
  readonly actions: readonly PowerSyncAction[];
  readonly skipped: readonly { readonly instanceId: string; readonly why: PowerSyncSkip }[];
  /** Set when the whole host was left alone: its state is not one whose inventory can be trusted. */
  readonly hostSkipped?: HostLiveness;
}

/**
 * Host states whose inventory the sync acts on. A suspect, failed, isolated, fenced or down host is
 * HA's: its VMs may be restarted elsewhere, so nothing is decided from what it holds (or lacks).
 */
const SYNCED_HOST_STATES: ReadonlySet<HostLiveness> = new Set<HostLiveness>(['up', 'maintenance', 'standby']);

/** Whether the power sync acts on a host in this state (up, maintenance, standby); see SYNCED_HOST_STATES. */
export function powerSyncAppliesTo(hostState: HostLiveness): boolean {
  return SYNCED_HOST_STATES.has(hostState);
}

/** vm_states whose guest runs or is held in memory on the host; losing it leaves the instance stopped. */
const GUEST_ALIVE: ReadonlySet<VmState> = new Set<VmState>(['active', 'paused', 'suspended', 'rescued']);

/**
 * Decides the power sync of one host (pure; see the module doc for the read order).
 *
 * Left alone, always: the whole host unless it is up, in maintenance or in standby; any instance
 * with a task_state in progress, an open HA evacuation, a live migration (record or VM flagged
 * migrating) or a resize (its guest may be on either host). Then:
 * - recorded here but not in the inventory: a guest that was alive (active, paused, suspended,
 *   rescued) is `stop`ped, vm_state stopped and power_state nostate (Nova's handling of a VM the
 *   hypervisor lost), or `respawn`ed when `resumeGuestsStateOnHostBoot` is set and it was active
 *   and running (Nova's `_init_instance` resumes a guest whose recorded power state was RUNNING);
 *   any other vm_state just gets power_state nostate.
 * - in the inventory, recorded here: its power state is recorded when it differs (vm_state is not
 *   changed; the HA loop powers on what its host powered off by itself).
 * - in the inventory, owned by no record on this host (no record, or placed on another host or on
 *   none, with no task in progress): `destroy` (Nova's cleanup of running deleted and evacuated instances; the
 *   HA rule that a VM never runs on two hosts).
 * @returns the actions in a stable order (records first, by id, then VMs to destroy, by id)
 */
export function planPowerSync(input: PowerSyncInput): PowerSyncPlan {
  if (!powerSyncAppliesTo(input.hostState)) return { actions: [], skipped: [], hostSkipped: input.hostState };
  const actions: PowerSyncAction[] = [];
  const skipped: { instanceId: string; why: PowerSyncSkip }[] = [];
  const held = new Map(input.inventory.map((vm) => [vm.instanceId, vm]));
  const leftAlone = (r: SyncedInstance, vm?: InventoryVm): PowerSyncSkip | undefined => {
    if (r.taskState !== null) return 'task_in_progress';
    if (input.evacuating.has(r.id)) return 'evacuating';
    if (input.migrating.has(r.id) || vm?.migrating) return 'migrating';
    if (r.resize) return 'resizing';
    return undefined;
  };

  for (const r of [...input.placedBefore].sort(byId)) {
    if (r.hostId !== input.hostId || r.vmState === 'deleted') continue;
    const vm = held.get(r.id);
    const why = leftAlone(r, vm);
    if (why) {
      skipped.push({ instanceId: r.id, why });
      continue;
    }
    const from = { vmState: r.vmState, powerState: r.powerState };
    if (!vm) {
      if (GUEST_ALIVE.has(r.vmState)) {
        const resume = input.resumeGuestsStateOnHostBoot && r.vmState === 'active' && r.powerState === 'running';
        actions.push({ kind: resume ? 'respawn' : 'stop', instanceId: r.id, from });
      } else if (r.powerState !== 'nostate') {
        actions.push({ kind: 'set_power_state', instanceId: r.id, powerState: 'nostate', from });
      }
    } else if (vm.powerState !== r.powerState) {
      actions.push({ kind: 'set_power_state', instanceId: r.id, powerState: vm.powerState, from });
    }
  }

  for (const vm of [...input.inventory].sort((a, b) => a.instanceId.localeCompare(b.instanceId))) {
    const owner = input.ownersAfter.get(vm.instanceId);
    if (owner?.hostId === input.hostId && owner.vmState !== 'deleted') continue; // recorded here: decided above
    if (vm.migrating) {
      skipped.push({ instanceId: vm.instanceId, why: 'migrating' });
      continue;
    }
    const why = owner && leftAlone(owner, vm);
    if (why) {
      skipped.push({ instanceId: vm.instanceId, why });
      continue;
    }
    actions.push({ kind: 'destroy', instanceId: vm.instanceId, why: !owner || owner.vmState === 'deleted' ? 'no_record' : 'not_placed_here' });
  }
  return { actions, skipped };
}

function byId(a: SyncedInstance, b: SyncedInstance): number {
  return a.id.localeCompare(b.id);
}
