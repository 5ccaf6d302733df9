import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { PowerState, TaskState, VmState } from './instance';

/** Power actions the controller runs through the agent now. */
export type PowerAction = 'stop' | 'start' | 'reboot_soft' | 'reboot_hard' | 'pause' | 'unpause' | 'suspend' | 'resume';

/** Agent command of a power action (a variant of agent.v1 ExecuteCommandRequest's union). */
export type AgentCommandName = 'powerOff' | 'powerOn' | 'reboot' | 'pause' | 'unpause' | 'suspend' | 'resume';

/** One row of the action table. */
export interface PowerActionRule {
  /** Name in the instance actions log and in error messages (Nova's action names). */
  readonly actionName: string;
  /** vm_states the action is allowed from (Nova's `@check_instance_state(vm_state=...)`). */
  readonly fromVmStates: readonly VmState[];
  /** task_states allowed (null = no task); Nova's default is `task_state=[None]`. */
  readonly fromTaskStates: readonly (TaskState | null)[];
  /** task_state set while the agent works. */
  readonly taskState: TaskState;
  readonly command: AgentCommandName;
  /** The agent's report reason that completes the action. */
  readonly completedBy: string;
  /** States once completed. */
  readonly toVmState: VmState;
  readonly toPowerState: PowerState;
}

/**
 * The allowed-state table of Nova's compute API (`nova/compute/api.py` decorators):
 * stop: ACTIVE, RESCUED, ERROR; start: STOPPED; soft reboot: ACTIVE (ALLOW_SOFT_REBOOT);
 * hard reboot: ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR (ALLOW_HARD_REBOOT) also while a reboot is
 * in progress (ALLOW_REBOOT task states, reduced); pause/suspend: ACTIVE; unpause: PAUSED;
 * resume: SUSPENDED. Everything else requires task_state None.
 */
export const POWER_ACTIONS: Readonly<Record<PowerAction, PowerActionRule>> = {
  stop: {
    actionName: 'stop',
    fromVmStates: ['active', 'rescued', 'error'],
    fromTaskStates: [null],
    taskState: 'powering_off',
    command: 'powerOff',
    completedBy: 'powered_off',
    toVmState: 'stopped',
    toPowerState: 'shutdown',
  },
  start: {
    actionName: 'start',
    fromVmStates: ['stopped'],
    fromTaskStates: [null],
    taskState: 'powering_on',
    command: 'powerOn',
    completedBy: 'powered_on',
    toVmState: 'active',
    toPowerState: 'running',
  },
  reboot_soft: {
    actionName: 'reboot',
    fromVmStates: ['active'],
    fromTaskStates: [null],
    taskState: 'rebooting',
    command: 'reboot',
    completedBy: 'rebooted',
    toVmState: 'active',
    toPowerState: 'running',
  },
  reboot_hard: {
    actionName: 'reboot',
    fromVmStates: ['active', 'stopped', 'paused', 'suspended', 'error'],
    fromTaskStates: [null, 'rebooting', 'rebooting_hard'],
    taskState: 'rebooting_hard',
    command: 'reboot',
    completedBy: 'rebooted',
    toVmState: 'active',
    toPowerState: 'running',
  },
  pause: {
    actionName: 'pause',
    fromVmStates: ['active'],
    fromTaskStates: [null],
    taskState: 'pausing',
    command: 'pause',
    completedBy: 'paused',
    toVmState: 'paused',
    toPowerState: 'paused',
  },
  unpause: {
    actionName: 'unpause',
    fromVmStates: ['paused'],
    fromTaskStates: [null],
    taskState: 'unpausing',
    command: 'unpause',
    completedBy: 'unpaused',
    toVmState: 'active',
    toPowerState: 'running',
  },
  suspend: {
    actionName: 'suspend',
    fromVmStates: ['active'],
    fromTaskStates: [null],
    taskState: 'suspending',
    command: 'suspend',
    completedBy: 'suspended',
    toVmState: 'suspended',
    toPowerState: 'suspended',
  },
  resume: {
    actionName: 'resume',
    fromVmStates: ['suspended'],
    fromTaskStates: [null],
    taskState: 'resuming',
    command: 'resume',
    completedBy: 'resumed',
    toVmState: 'active',
    toPowerState: 'running',
  },
};

/**
 * Checks that `action` may start on an instance in these states (Nova's InstanceInvalidState).
 * @throws FailedPreconditionError "Cannot 'stop' instance X while it is in vm_state stopped" (or
 *   "... in task_state powering_on"), reason `instance_invalid_state`
 */
export function checkActionAllowed(action: PowerAction, instance: { id: string; vmState: VmState; taskState: TaskState | null }): PowerActionRule {
  const rule = POWER_ACTIONS[action];
  if (!rule.fromVmStates.includes(instance.vmState)) {
    throw new FailedPreconditionError(
      `Cannot '${rule.actionName}' instance ${instance.id} while it is in vm_state ${instance.vmState}`,
      'instance_invalid_state',
    );
  }
  if (!rule.fromTaskStates.includes(instance.taskState)) {
    throw new FailedPreconditionError(
      `Cannot '${rule.actionName}' instance ${instance.id} while it is in task_state ${instance.taskState}`,
      'instance_invalid_state',
    );
  }
  return rule;
}

/** The rule whose task_state is `taskState`, if a power action is in progress. */
export function ruleForTaskState(taskState: TaskState | null): PowerActionRule | undefined {
  if (!taskState) return undefined;
  return Object.values(POWER_ACTIONS).find((r) => r.taskState === taskState);
}
