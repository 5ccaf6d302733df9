import { compute } from '@minicloud/proto';
import { deriveServerStatus as statusFromState, type TaskState, type VmState } from '@minicloud/domain-compute';

const V = compute.VmState;
const T = compute.TaskState;

/** The domain's vm_state name of a proto VmState (`VM_STATE_SHELVED_OFFLOADED` -> `shelved_offloaded`); undefined when unset or unknown. */
function vmStateName(v: compute.VmState): VmState | undefined {
  const name = V[v];
  return name && v !== V.VM_STATE_UNSPECIFIED && v !== V.UNRECOGNIZED ? (name.slice('VM_STATE_'.length).toLowerCase() as VmState) : undefined;
}

/** The domain's task_state name of a proto TaskState; null for no task (unset or unknown). */
function taskStateName(t: compute.TaskState): TaskState | null {
  const name = T[t];
  return name && t !== T.TASK_STATE_UNSPECIFIED && t !== T.UNRECOGNIZED ? (name.slice('TASK_STATE_'.length).toLowerCase() as TaskState) : null;
}

/**
 * The API `status` of a server from its proto vm_state and task_state: the enums are named as the
 * domain's states and handed to the one status map, `deriveServerStatus` of @minicloud/domain-compute
 * (Nova's `_STATE_MAP`); an unset or unknown vm_state gives UNKNOWN.
 */
export function protoServerStatus(vmState: compute.VmState, taskState: compute.TaskState): string {
  const vm = vmStateName(vmState);
  return vm ? statusFromState(vm, taskStateName(taskState)) : 'UNKNOWN';
}

/** The status to show: the server's own `status` field when set, otherwise {@link protoServerStatus}. */
export function serverStatus(s: Pick<compute.Server, 'status' | 'vmState' | 'taskState'>): string {
  return s.status || protoServerStatus(s.vmState, s.taskState);
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
