import { compute } from '@minicloud/proto';

const V = compute.VmState;
const T = compute.TaskState;

const RESIZE_TASKS = [T.TASK_STATE_RESIZE_PREP, T.TASK_STATE_RESIZE_MIGRATING, T.TASK_STATE_RESIZE_FINISH];

/** Status by vm_state, then task_state overrides, after nova/api/openstack/common.py `_STATE_MAP`. */
const STATE_MAP: ReadonlyMap<compute.VmState, { default: string; tasks?: ReadonlyMap<compute.TaskState, string> }> = new Map([
  [
    V.VM_STATE_ACTIVE,
    {
      default: 'ACTIVE',
      tasks: new Map<compute.TaskState, string>([
        [T.TASK_STATE_REBOOTING, 'REBOOT'],
        [T.TASK_STATE_REBOOTING_HARD, 'HARD_REBOOT'],
        [T.TASK_STATE_REBUILDING, 'REBUILD'],
        [T.TASK_STATE_REBUILD_SPAWNING, 'REBUILD'],
        [T.TASK_STATE_MIGRATING, 'MIGRATING'],
        ...RESIZE_TASKS.map((t) => [t, 'RESIZE'] as [compute.TaskState, string]),
      ]),
    },
  ],
  [V.VM_STATE_BUILDING, { default: 'BUILD' }],
  [
    V.VM_STATE_STOPPED,
    {
      default: 'SHUTOFF',
      tasks: new Map<compute.TaskState, string>([
        [T.TASK_STATE_REBUILDING, 'REBUILD'],
        [T.TASK_STATE_REBUILD_SPAWNING, 'REBUILD'],
        ...RESIZE_TASKS.map((t) => [t, 'RESIZE'] as [compute.TaskState, string]),
      ]),
    },
  ],
  [V.VM_STATE_RESIZED, { default: 'VERIFY_RESIZE', tasks: new Map([[T.TASK_STATE_RESIZE_REVERTING, 'REVERT_RESIZE']]) }],
  [V.VM_STATE_PAUSED, { default: 'PAUSED', tasks: new Map([[T.TASK_STATE_MIGRATING, 'MIGRATING']]) }],
  [V.VM_STATE_SUSPENDED, { default: 'SUSPENDED' }],
  [V.VM_STATE_RESCUED, { default: 'RESCUE' }],
  [V.VM_STATE_ERROR, { default: 'ERROR', tasks: new Map([[T.TASK_STATE_REBUILDING, 'REBUILD']]) }],
  [V.VM_STATE_DELETED, { default: 'DELETED' }],
  [V.VM_STATE_SOFT_DELETED, { default: 'SOFT_DELETED' }],
  [V.VM_STATE_SHELVED, { default: 'SHELVED' }],
  [V.VM_STATE_SHELVED_OFFLOADED, { default: 'SHELVED_OFFLOADED' }],
]);

/**
 * The API `status` of a server derived from its vm_state and task_state exactly as Nova's API does
 * (`status_from_state`): e.g. active + rebooting -> REBOOT, stopped -> SHUTOFF, building -> BUILD;
 * an unknown vm_state -> UNKNOWN.
 */
export function deriveServerStatus(vmState: compute.VmState, taskState: compute.TaskState): string {
  const entry = STATE_MAP.get(vmState);
  if (!entry) return 'UNKNOWN';
  return entry.tasks?.get(taskState) ?? entry.default;
}

/** The status to show: the server's own `status` field when set, otherwise {@link deriveServerStatus}. */
export function serverStatus(s: Pick<compute.Server, 'status' | 'vmState' | 'taskState'>): string {
  return s.status || deriveServerStatus(s.vmState, s.taskState);
}

/**
 * True when a server reached a state `--wait` stops at: ACTIVE (vm_state active and no task) or
 * ERROR (vm_state error).
 */
export function isSettled(s: Pick<compute.Server, 'vmState' | 'taskState'>): 'active' | 'error' | undefined {
  if (s.vmState === V.VM_STATE_ERROR) return 'error';
  if (s.vmState === V.VM_STATE_ACTIVE && s.taskState === T.TASK_STATE_UNSPECIFIED) return 'active';
  return undefined;
}
