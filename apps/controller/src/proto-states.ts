import { compute } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { FlavorRecord, HostLiveness, PowerState, TaskState, VmState } from '@minicloud/domain-compute';

/*
 * Domain states and flavors as proto values: shared by the API's mapping (api/proto-mapping.ts), the
 * events the controller publishes and the specs it sends agents, so none of those imports api/.
 */

const enumKey = (s: string) => s.toUpperCase();

/** vm_state (Nova's lowercase name) -> the compute proto enum. */
export function vmStateToProto(s: VmState): compute.VmState {
  return compute.VmState[`VM_STATE_${enumKey(s)}` as keyof typeof compute.VmState] ?? compute.VmState.VM_STATE_UNSPECIFIED;
}

/** The compute proto enum -> vm_state; undefined for UNSPECIFIED or an unknown value (a filter that was not set). */
export function vmStateFromProto(s: compute.VmState): VmState | undefined {
  const name = compute.VmState[s];
  return name && s !== compute.VmState.VM_STATE_UNSPECIFIED ? (name.replace('VM_STATE_', '').toLowerCase() as VmState) : undefined;
}

/** task_state (null: no task) -> the compute proto enum (UNSPECIFIED for none). */
export function taskStateToProto(s: TaskState | null): compute.TaskState {
  if (!s) return compute.TaskState.TASK_STATE_UNSPECIFIED;
  return compute.TaskState[`TASK_STATE_${enumKey(s)}` as keyof typeof compute.TaskState] ?? compute.TaskState.TASK_STATE_UNSPECIFIED;
}

/** power_state as the hypervisor reports it -> the compute proto enum. */
export function powerStateToProto(s: PowerState): compute.PowerState {
  return compute.PowerState[`POWER_STATE_${enumKey(s)}` as keyof typeof compute.PowerState] ?? compute.PowerState.POWER_STATE_UNSPECIFIED;
}

/** The compute (agent) proto power_state -> power_state; an unknown value is `nostate`. */
export function powerStateFromProto(s: compute.PowerState): PowerState {
  const name = compute.PowerState[s];
  return !name || s === compute.PowerState.POWER_STATE_UNSPECIFIED ? 'nostate' : (name.replace('POWER_STATE_', '').toLowerCase() as PowerState);
}

/** Host liveness (up, isolated, failed, fenced, ...) -> the compute proto HostState. */
export function hostStateToProto(s: HostLiveness): compute.HostState {
  const byState: Record<HostLiveness, compute.HostState> = {
    up: compute.HostState.HOST_STATE_UP,
    suspect: compute.HostState.HOST_STATE_SUSPECT,
    failed: compute.HostState.HOST_STATE_FAILED,
    isolated: compute.HostState.HOST_STATE_ISOLATED,
    fenced: compute.HostState.HOST_STATE_FENCED,
    maintenance: compute.HostState.HOST_STATE_MAINTENANCE,
    standby: compute.HostState.HOST_STATE_STANDBY,
    down: compute.HostState.HOST_STATE_DOWN,
  };
  return byState[s] ?? compute.HostState.HOST_STATE_DOWN;
}

/** A flavor record (vcpus, ram_mb, disk_gb, extra specs) -> the proto Flavor the API and the agent's InstanceSpec carry. */
export function flavorToProto(f: FlavorRecord): DeepPartial<compute.Flavor> {
  return { ...f, rxtxFactor: f.rxtxFactor ?? 1 };
}
