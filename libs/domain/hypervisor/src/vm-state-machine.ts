import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';

/** What the hypervisor reports for a VM (libvirt domain state as Nova maps it: nova/compute/power_state.py). */
export type PowerState = 'nostate' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';

/** The machine's state: a power state, or 'building' while spawn runs (image fetch, overlay, boot). */
export type VmState = PowerState | 'building';

/** Why a VM is no longer on this host. */
export type VmGone = 'destroyed' | 'migrated_out';

/** Virtual hardware of a VM (a flavor's sizes). `ramMb` MiB, `diskGb` GiB root disk. */
export interface VmFlavor {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
}

/** A vNIC plugged into the host's virtual switch. */
export interface VmInterface {
  readonly portId: string;
  readonly macAddress: string;
}

/**
 * One VM's runtime record on this host. Immutable: `apply` returns a new record.
 * `gone` is set once the VM was destroyed or migrated away; its state is then 'nostate'.
 */
export interface VmRecord {
  readonly instanceId: string;
  readonly state: VmState;
  readonly gone: VmGone | null;
  readonly flavor: VmFlavor;
  readonly volumeIds: readonly string[];
  readonly interfaces: readonly VmInterface[];
  /** Number of snapshots taken (each adds a QCOW2 layer). */
  readonly snapshotCount: number;
  /** Guest boots so far (spawn completion, power_on, reboot, migrate_in count; resume/unpause do not). */
  readonly bootCount: number;
}

/**
 * Every operation on a VM, one variant each (Firecracker style). `boot_complete` ends the internal
 * 'building' phase that `spawn` starts (the agent applies it when the boot model's time has elapsed).
 */
export type VmCommand =
  | { type: 'spawn' }
  | { type: 'boot_complete' }
  | { type: 'destroy' }
  | { type: 'power_off' }
  | { type: 'power_on' }
  | { type: 'reboot'; hard: boolean }
  | { type: 'pause' }
  | { type: 'unpause' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'snapshot' }
  | { type: 'attach_volume'; volumeId: string; /** The volume's size (GiB), for the guest's view of its disk; absent: unknown. */ sizeGb?: number }
  | { type: 'detach_volume'; volumeId: string }
  | { type: 'attach_interface'; portId: string; macAddress: string }
  | { type: 'detach_interface'; portId: string }
  | { type: 'resize'; flavor: VmFlavor }
  | { type: 'migrate_out' }
  | { type: 'migrate_in'; powerState?: 'running' | 'paused' }
  | { type: 'crash' };

export type VmCommandType = VmCommand['type'];

const ALL_STATES: readonly VmState[] = ['nostate', 'building', 'running', 'paused', 'shutdown', 'crashed', 'suspended'];

/**
 * The states each command is accepted in (for a VM that is not gone), following libvirt and Nova:
 * pause only when running (virDomainSuspend); unpause only when paused; suspend (managed save) from
 * running or paused; resume only when suspended; power_on from shutdown or crashed; soft reboot only
 * when running; hard reboot from every state Nova allows (vm_states.ALLOW_HARD_REBOOT: active,
 * stopped, paused, suspended, error=crashed); snapshot from running, paused, shutdown, suspended (Nova
 * snapshot); attach/detach when running or shutdown; resize only when shut down (Nova's libvirt driver
 * powers the guest off in migrate_disk_and_power_off); live migration out from running or paused;
 * destroy from any state, and again on a gone VM (idempotent delete).
 */
export const ACCEPTED_STATES: Readonly<Record<VmCommandType, readonly VmState[]>> = {
  spawn: ['nostate'],
  boot_complete: ['building'],
  destroy: ALL_STATES,
  power_off: ['running', 'paused', 'crashed'],
  power_on: ['shutdown', 'crashed'],
  reboot: ['running'],
  pause: ['running'],
  unpause: ['paused'],
  suspend: ['running', 'paused'],
  resume: ['suspended'],
  snapshot: ['running', 'paused', 'shutdown', 'suspended'],
  attach_volume: ['running', 'shutdown'],
  detach_volume: ['running', 'shutdown'],
  attach_interface: ['running', 'shutdown'],
  detach_interface: ['running', 'shutdown'],
  resize: ['shutdown'],
  migrate_out: ['running', 'paused'],
  migrate_in: ['nostate'],
  crash: ['running', 'building'],
};

/** States a hard reboot is accepted in (Nova ALLOW_HARD_REBOOT). */
export const HARD_REBOOT_STATES: readonly VmState[] = ['running', 'paused', 'shutdown', 'crashed', 'suspended'];

/**
 * A command that the VM's current state does not allow. FAILED_PRECONDITION with reason
 * "invalid_vm_transition"; the message names the command and the power state, e.g.
 * "cannot pause instance abc: power_state is shutdown".
 */
export class InvalidVmTransitionError extends FailedPreconditionError {
  readonly instanceId: string;
  readonly command: VmCommandType;
  /** The state the VM was in ('building' or a power state). */
  readonly state: VmState;
  constructor(vm: Pick<VmRecord, 'instanceId' | 'state' | 'gone'>, command: VmCommandType) {
    super(`cannot ${command} instance ${vm.instanceId}: power_state is ${describeState(vm)}`, 'invalid_vm_transition');
    Object.defineProperty(this, 'name', { value: 'InvalidVmTransitionError' });
    this.instanceId = vm.instanceId;
    this.command = command;
    this.state = vm.state;
  }
}

/**
 * A new VM record, defined on this host but not started ('nostate').
 * @throws InvalidArgumentError naming `instance_id` or `flavor.<field>` when empty or not positive integers.
 */
export function defineVm(instanceId: string, flavor: VmFlavor): VmRecord {
  if (!instanceId) throw new InvalidArgumentError('instance_id', 'must not be empty');
  validateFlavor(flavor);
  return { instanceId, state: 'nostate', gone: null, flavor, volumeIds: [], interfaces: [], snapshotCount: 0, bootCount: 0 };
}

/** The power state the hypervisor reports: 'building' shows as 'nostate', as in Nova. */
export function powerStateOf(vm: Pick<VmRecord, 'state'>): PowerState {
  return vm.state === 'building' ? 'nostate' : vm.state;
}

/** True when `cmd` would be accepted by `vm` now (no throw). */
export function canApply(vm: VmRecord, cmd: VmCommand): boolean {
  if (vm.gone) return cmd.type === 'destroy';
  const accepted = cmd.type === 'reboot' && cmd.hard ? HARD_REBOOT_STATES : ACCEPTED_STATES[cmd.type];
  return accepted.includes(vm.state);
}

/**
 * Applies one command to a VM and returns the new record (the input is not changed).
 * @throws InvalidVmTransitionError when the state does not accept the command (see ACCEPTED_STATES);
 *   AlreadyExistsError when attaching a volume/port that is attached; NotFoundError when detaching one
 *   that is not; InvalidArgumentError for a bad resize flavor or shrinking the root disk (QCOW2 images
 *   are not shrunk, as Nova's libvirt driver refuses "resize disk down").
 */
export function apply(vm: VmRecord, cmd: VmCommand): VmRecord {
  if (!canApply(vm, cmd)) throw new InvalidVmTransitionError(vm, cmd.type);
  switch (cmd.type) {
    case 'spawn':
      return { ...vm, state: 'building' };
    case 'boot_complete':
    case 'power_on':
    case 'reboot':
      return { ...vm, state: 'running', bootCount: vm.bootCount + 1 };
    case 'destroy':
      return { ...vm, state: 'nostate', gone: vm.gone ?? 'destroyed' };
    case 'power_off':
      return { ...vm, state: 'shutdown' };
    case 'pause':
      return { ...vm, state: 'paused' };
    case 'unpause':
    case 'resume':
      return { ...vm, state: 'running' };
    case 'suspend':
      return { ...vm, state: 'suspended' };
    case 'snapshot':
      return { ...vm, snapshotCount: vm.snapshotCount + 1 };
    case 'attach_volume':
      if (vm.volumeIds.includes(cmd.volumeId)) throw new AlreadyExistsError('volume_attachment', `${vm.instanceId}/${cmd.volumeId}`);
      return { ...vm, volumeIds: [...vm.volumeIds, cmd.volumeId] };
    case 'detach_volume':
      if (!vm.volumeIds.includes(cmd.volumeId)) throw new NotFoundError('volume_attachment', `${vm.instanceId}/${cmd.volumeId}`);
      return { ...vm, volumeIds: vm.volumeIds.filter((v) => v !== cmd.volumeId) };
    case 'attach_interface':
      if (vm.interfaces.some((i) => i.portId === cmd.portId)) throw new AlreadyExistsError('interface_attachment', `${vm.instanceId}/${cmd.portId}`);
      return { ...vm, interfaces: [...vm.interfaces, { portId: cmd.portId, macAddress: cmd.macAddress }] };
    case 'detach_interface':
      if (!vm.interfaces.some((i) => i.portId === cmd.portId)) throw new NotFoundError('interface_attachment', `${vm.instanceId}/${cmd.portId}`);
      return { ...vm, interfaces: vm.interfaces.filter((i) => i.portId !== cmd.portId) };
    case 'resize':
      validateFlavor(cmd.flavor);
      if (cmd.flavor.diskGb < vm.flavor.diskGb) {
        throw new InvalidArgumentError('flavor.disk_gb', `cannot shrink the root disk from ${vm.flavor.diskGb} to ${cmd.flavor.diskGb} GB`);
      }
      return { ...vm, flavor: cmd.flavor };
    case 'migrate_out':
      return { ...vm, state: 'nostate', gone: 'migrated_out' };
    case 'migrate_in':
      return { ...vm, state: cmd.powerState ?? 'running' };
    case 'crash':
      return { ...vm, state: 'crashed' };
  }
}

function describeState(vm: Pick<VmRecord, 'state' | 'gone'>): string {
  if (vm.gone) return `nostate (${vm.gone})`;
  return vm.state === 'building' ? 'nostate (building)' : vm.state;
}

function validateFlavor(f: VmFlavor): void {
  const fields: [string, number][] = [['vcpus', f.vcpus], ['ram_mb', f.ramMb], ['disk_gb', f.diskGb]];
  for (const [field, v] of fields) {
    const ok = Number.isInteger(v) && (field === 'disk_gb' ? v >= 0 : v > 0);
    if (!ok) throw new InvalidArgumentError(`flavor.${field}`, `must be a ${field === 'disk_gb' ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
}
