import type { TaskState, VmState } from './instance';

/**
 * Nova's API `status` of a server, derived from vm_state and task_state exactly as
 * `nova/api/openstack/common.py` `_STATE_MAP` does: each vm_state has a default status and some
 * task_states override it (e.g. active + rebooting -> REBOOT, stopped + resize_prep -> RESIZE).
 * Unknown combinations fall back to the vm_state's default; an unknown vm_state gives UNKNOWN.
 * Nova task states minicloud never sets (reboot_pending/started, resize_migrated, updating_password,
 * rebuild_block_device_mapping) are left out. The one status map: the CLI and the controller both
 * call this; a proto caller names its enums as these strings first.
 */
export function deriveServerStatus(vmState: VmState, taskState: TaskState | null): string {
  const row = Object.hasOwn(STATE_MAP, vmState) ? STATE_MAP[vmState] : undefined;
  if (!row) return 'UNKNOWN';
  return (taskState && row[taskState]) || row.default;
}

type Row = { default: string } & Partial<Record<TaskState, string>>;

const RESIZE: Partial<Record<TaskState, string>> = {
  resize_prep: 'RESIZE',
  resize_migrating: 'RESIZE',
  resize_finish: 'RESIZE',
};
const REBUILD: Partial<Record<TaskState, string>> = { rebuilding: 'REBUILD', rebuild_spawning: 'REBUILD' };

const STATE_MAP: Record<VmState, Row> = {
  active: {
    default: 'ACTIVE',
    rebooting: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT',
    migrating: 'MIGRATING',
    ...RESIZE,
    ...REBUILD,
  },
  building: { default: 'BUILD' },
  stopped: { default: 'SHUTOFF', ...RESIZE, ...REBUILD },
  resized: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  paused: { default: 'PAUSED', migrating: 'MIGRATING' },
  suspended: { default: 'SUSPENDED' },
  rescued: { default: 'RESCUE' },
  error: { default: 'ERROR', ...REBUILD },
  deleted: { default: 'DELETED' },
  soft_deleted: { default: 'SOFT_DELETED' },
  shelved: { default: 'SHELVED' },
  shelved_offloaded: { default: 'SHELVED_OFFLOADED' },
};
