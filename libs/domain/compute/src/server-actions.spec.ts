import { FailedPreconditionError } from '@minicloud/domain-errors';
import { checkActionAllowed, POWER_ACTIONS, ruleForTaskState, type PowerAction } from './server-actions';
import type { TaskState, VmState } from './instance';

const inst = (vmState: VmState, taskState: TaskState | null = null) => ({ id: 'i-1', vmState, taskState });

describe('checkActionAllowed (Nova allowed-state table)', () => {
  it.each([
    ['stop', 'active'],
    ['stop', 'error'],
    ['start', 'stopped'],
    ['reboot_soft', 'active'],
    ['reboot_hard', 'stopped'],
    ['reboot_hard', 'paused'],
    ['pause', 'active'],
    ['unpause', 'paused'],
    ['suspend', 'active'],
    ['resume', 'suspended'],
  ] as [PowerAction, VmState][])('allows %s from %s', (action, vm) => {
    expect(checkActionAllowed(action, inst(vm)).taskState).toBe(POWER_ACTIONS[action].taskState);
  });

  it.each([
    ['stop', 'stopped'],
    ['start', 'active'],
    ['reboot_soft', 'stopped'],
    ['pause', 'paused'],
    ['unpause', 'active'],
    ['resume', 'active'],
    ['suspend', 'building'],
  ] as [PowerAction, VmState][])('refuses %s from %s naming the vm_state', (action, vm) => {
    expect(() => checkActionAllowed(action, inst(vm))).toThrow(
      new FailedPreconditionError(`Cannot '${POWER_ACTIONS[action].actionName}' instance i-1 while it is in vm_state ${vm}`),
    );
  });

  it('refuses a second action while a task runs, naming the task_state', () => {
    expect(() => checkActionAllowed('stop', inst('active', 'powering_off'))).toThrow(/in task_state powering_off/);
  });

  it('lets a hard reboot override a soft one in progress, but not the reverse', () => {
    expect(checkActionAllowed('reboot_hard', inst('active', 'rebooting')).taskState).toBe('rebooting_hard');
    expect(() => checkActionAllowed('reboot_soft', inst('active', 'rebooting_hard'))).toThrow(FailedPreconditionError);
  });

  it('maps each task_state back to its rule', () => {
    for (const rule of Object.values(POWER_ACTIONS)) expect(ruleForTaskState(rule.taskState)).toBe(rule);
    expect(ruleForTaskState(null)).toBeUndefined();
    expect(ruleForTaskState('spawning')).toBeUndefined();
  });
});
