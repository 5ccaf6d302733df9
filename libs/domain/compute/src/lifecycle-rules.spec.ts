import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { TaskState, VmState } from './instance';
import { checkLifecycleAllowed, checkNotLocked, LIFECYCLE_ACTIONS, type LifecycleAction } from './lifecycle-rules';

const inst = (vmState: VmState, taskState: TaskState | null = null) => ({ id: 'i-1', vmState, taskState });

describe('checkLifecycleAllowed (Nova check_instance_state table)', () => {
  const table: [LifecycleAction, VmState, boolean][] = [
    ['resize', 'active', true],
    ['resize', 'stopped', true],
    ['resize', 'paused', false],
    ['resize', 'shelved_offloaded', false],
    ['confirm_resize', 'resized', true],
    ['confirm_resize', 'active', false],
    ['revert_resize', 'resized', true],
    ['rebuild', 'error', true],
    ['rebuild', 'suspended', false],
    ['shelve', 'paused', true],
    ['shelve', 'shelved_offloaded', false],
    ['unshelve', 'shelved_offloaded', true],
    ['unshelve', 'active', false],
    ['rescue', 'stopped', true],
    ['rescue', 'rescued', false],
    ['unrescue', 'rescued', true],
    ['unrescue', 'active', false],
    ['create_image', 'suspended', true],
    ['create_image', 'error', false],
    ['lock', 'error', true],
    ['unlock', 'building', true],
  ];
  it.each(table)('%s from vm_state %s allowed=%s', (action, vmState, allowed) => {
    const run = () => checkLifecycleAllowed(action, inst(vmState));
    if (allowed) expect(run()).toBe(LIFECYCLE_ACTIONS[action]);
    else expect(run).toThrow(new RegExp(`Cannot '${LIFECYCLE_ACTIONS[action].actionName}' instance i-1 while it is in vm_state ${vmState}`));
  });

  it('refuses any action but lock/unlock while a task runs, naming the task_state', () => {
    expect(() => checkLifecycleAllowed('resize', inst('active', 'rebooting'))).toThrow(/task_state rebooting/);
    expect(() => checkLifecycleAllowed('shelve', inst('active', 'powering_off'))).toThrow(FailedPreconditionError);
    expect(checkLifecycleAllowed('lock', inst('active', 'resize_migrating')).taskState).toBeNull();
  });
});

describe('checkNotLocked', () => {
  it('refuses a non-admin on a locked instance, lets an admin through', () => {
    expect(() => checkNotLocked({ id: 'i-1', locked: true }, false)).toThrow(/Instance i-1 is locked/);
    expect(() => checkNotLocked({ id: 'i-1', locked: true }, true)).not.toThrow();
    expect(() => checkNotLocked({ id: 'i-1' }, false)).not.toThrow();
  });
});
