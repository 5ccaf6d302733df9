import { compute } from '@minicloud/proto';
import { protoServerStatus, isSettled, serverStatus } from './server-status';

const V = compute.VmState;
const T = compute.TaskState;

describe('protoServerStatus (proto states through Nova _STATE_MAP)', () => {
  it.each([
    [V.VM_STATE_BUILDING, T.TASK_STATE_SPAWNING, 'BUILD'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_UNSPECIFIED, 'ACTIVE'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_REBOOTING, 'REBOOT'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_REBOOTING_HARD, 'HARD_REBOOT'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_MIGRATING, 'MIGRATING'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_RESIZE_PREP, 'RESIZE'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_POWERING_OFF, 'ACTIVE'],
    [V.VM_STATE_ACTIVE, T.TASK_STATE_DELETING, 'ACTIVE'],
    [V.VM_STATE_STOPPED, T.TASK_STATE_UNSPECIFIED, 'SHUTOFF'],
    [V.VM_STATE_STOPPED, T.TASK_STATE_REBUILDING, 'REBUILD'],
    [V.VM_STATE_PAUSED, T.TASK_STATE_UNSPECIFIED, 'PAUSED'],
    [V.VM_STATE_PAUSED, T.TASK_STATE_MIGRATING, 'MIGRATING'],
    [V.VM_STATE_SUSPENDED, T.TASK_STATE_UNSPECIFIED, 'SUSPENDED'],
    [V.VM_STATE_RESIZED, T.TASK_STATE_UNSPECIFIED, 'VERIFY_RESIZE'],
    [V.VM_STATE_RESIZED, T.TASK_STATE_RESIZE_REVERTING, 'REVERT_RESIZE'],
    [V.VM_STATE_RESCUED, T.TASK_STATE_UNSPECIFIED, 'RESCUE'],
    [V.VM_STATE_ERROR, T.TASK_STATE_UNSPECIFIED, 'ERROR'],
    [V.VM_STATE_ERROR, T.TASK_STATE_REBUILDING, 'REBUILD'],
    // Nova maps error + rebuild_spawning to REBUILD too; the CLI's own copy of the table said ERROR.
    [V.VM_STATE_ERROR, T.TASK_STATE_REBUILD_SPAWNING, 'REBUILD'],
    [V.VM_STATE_DELETED, T.TASK_STATE_UNSPECIFIED, 'DELETED'],
    [V.VM_STATE_SHELVED_OFFLOADED, T.TASK_STATE_UNSPECIFIED, 'SHELVED_OFFLOADED'],
    [V.VM_STATE_UNSPECIFIED, T.TASK_STATE_UNSPECIFIED, 'UNKNOWN'],
    [V.UNRECOGNIZED, T.TASK_STATE_UNSPECIFIED, 'UNKNOWN'],
    [V.VM_STATE_ACTIVE, T.UNRECOGNIZED, 'ACTIVE'],
  ])('vm_state %i + task_state %i -> %s', (vm, task, status) => {
    expect(protoServerStatus(vm, task)).toBe(status);
  });

  it('prefers the status the API already sent', () => {
    expect(serverStatus({ status: 'MIGRATING', vmState: V.VM_STATE_ACTIVE, taskState: T.TASK_STATE_UNSPECIFIED })).toBe('MIGRATING');
    expect(serverStatus({ status: '', vmState: V.VM_STATE_STOPPED, taskState: T.TASK_STATE_UNSPECIFIED })).toBe('SHUTOFF');
  });
});

describe('isSettled (what --wait stops at)', () => {
  it('is active only with no task in progress, error whatever the task', () => {
    expect(isSettled({ vmState: V.VM_STATE_ACTIVE, taskState: T.TASK_STATE_UNSPECIFIED })).toBe('active');
    expect(isSettled({ vmState: V.VM_STATE_ACTIVE, taskState: T.TASK_STATE_NETWORKING })).toBeUndefined();
    expect(isSettled({ vmState: V.VM_STATE_BUILDING, taskState: T.TASK_STATE_UNSPECIFIED })).toBeUndefined();
    expect(isSettled({ vmState: V.VM_STATE_ERROR, taskState: T.TASK_STATE_SPAWNING })).toBe('error');
  });
});
