import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { TaskState, VmState } from './instance';

/** Lifecycle actions beyond the power actions (the controller drives them step by step). */
export type LifecycleAction =
  | 'resize'
  | 'confirm_resize'
  | 'revert_resize'
  | 'rebuild'
  | 'shelve'
  | 'unshelve'
  | 'rescue'
  | 'unrescue'
  | 'create_image'
  | 'lock'
  | 'unlock';

/** One row: vm_states allowed, the task_state entered (none for lock/unlock) and the log name. */
export interface LifecycleRule {
  readonly actionName: string;
  readonly fromVmStates: readonly VmState[];
  readonly taskState: TaskState | null;
}

/**
 * Allowed states of Nova's compute API (`nova/compute/api.py` `@check_instance_state`), all with
 * task_state None: resize ACTIVE/STOPPED; confirm/revert RESIZED; rebuild ACTIVE/STOPPED/ERROR;
 * shelve ACTIVE/STOPPED/PAUSED/SUSPENDED; unshelve SHELVED/SHELVED_OFFLOADED; rescue
 * ACTIVE/STOPPED/ERROR; unrescue RESCUED; snapshot (createImage) ACTIVE/STOPPED/PAUSED/SUSPENDED;
 * lock/unlock any state (Nova checks no state for them).
 */
export const LIFECYCLE_ACTIONS: Readonly<Record<LifecycleAction, LifecycleRule>> = {
  resize: { actionName: 'resize', fromVmStates: ['active', 'stopped'], taskState: 'resize_prep' },
  confirm_resize: { actionName: 'confirmResize', fromVmStates: ['resized'], taskState: 'resize_confirming' },
  revert_resize: { actionName: 'revertResize', fromVmStates: ['resized'], taskState: 'resize_reverting' },
  rebuild: { actionName: 'rebuild', fromVmStates: ['active', 'stopped', 'error'], taskState: 'rebuilding' },
  shelve: { actionName: 'shelve', fromVmStates: ['active', 'stopped', 'paused', 'suspended'], taskState: 'shelving' },
  unshelve: { actionName: 'unshelve', fromVmStates: ['shelved', 'shelved_offloaded'], taskState: 'unshelving' },
  rescue: { actionName: 'rescue', fromVmStates: ['active', 'stopped', 'error'], taskState: 'rescuing' },
  unrescue: { actionName: 'unrescue', fromVmStates: ['rescued'], taskState: 'unrescuing' },
  create_image: { actionName: 'createImage', fromVmStates: ['active', 'stopped', 'paused', 'suspended'], taskState: 'image_snapshot' },
  lock: { actionName: 'lock', fromVmStates: [], taskState: null },
  unlock: { actionName: 'unlock', fromVmStates: [], taskState: null },
};

/**
 * Checks `action` may start (lock/unlock: any state; others need task_state None and a listed vm_state).
 * @throws FailedPreconditionError "Cannot 'resize' instance X while it is in vm_state shelved_offloaded"
 *   (or "... in task_state rebooting"), reason `instance_invalid_state`
 */
export function checkLifecycleAllowed(action: LifecycleAction, instance: { id: string; vmState: VmState; taskState: TaskState | null }): LifecycleRule {
  const rule = LIFECYCLE_ACTIONS[action];
  if (rule.taskState === null) return rule;
  if (!rule.fromVmStates.includes(instance.vmState)) {
    throw new FailedPreconditionError(`Cannot '${rule.actionName}' instance ${instance.id} while it is in vm_state ${instance.vmState}`, 'instance_invalid_state');
  }
  if (instance.taskState !== null) {
    throw new FailedPreconditionError(`Cannot '${rule.actionName}' instance ${instance.id} while it is in task_state ${instance.taskState}`, 'instance_invalid_state');
  }
  return rule;
}

/**
 * Nova's `@check_instance_lock`: a locked instance refuses every change by a non-admin.
 * @throws FailedPreconditionError "Instance X is locked", reason `instance_locked`
 */
export function checkNotLocked(instance: { id: string; locked?: boolean }, admin: boolean): void {
  if (instance.locked && !admin) throw new FailedPreconditionError(`Instance ${instance.id} is locked`, 'instance_locked');
}

/** Task states the controller's lifecycle worker drives (not completed by a single agent report). */
export const LIFECYCLE_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'resize_prep',
  'resize_migrating',
  'resize_finish',
  'resize_confirming',
  'resize_reverting',
  'rebuilding',
  'rebuild_spawning',
  'shelving',
  'shelving_offloading',
  'unshelving',
  'rescuing',
  'unrescuing',
  'image_snapshot',
]);
