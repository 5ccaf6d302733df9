import type { VmCommand, VmRecord } from '@minicloud/domain-hypervisor';
import type { VmSpec } from './vm-spec';

/** MigrateOutCommand, as the agent reads it. 0 / false = default. */
export interface MigrateOutParams {
  readonly migrationId: string;
  readonly destHostId: string;
  readonly destEndpoint: string;
  readonly destEpoch: number;
  /** Megabits per second (10^6 bit/s); 0: QEMU's 128 MiB/s capped at the source NIC. */
  readonly maxBandwidthMbps: number;
  /** 0: QEMU's 300 ms. */
  readonly maxDowntimeMs: number;
  readonly autoConverge: boolean;
  readonly postCopy: boolean;
  /** 0: Nova's live_migration_completion_timeout, 800 s per GiB of RAM (at least 800 s). */
  readonly timeoutSeconds: number;
  /** Nova's live_migration_permit_post_copy (a forced completion may switch to post-copy); default false. */
  readonly permitPostCopy?: boolean;
  /** Nova's live_migration_timeout_action; default abort. */
  readonly timeoutAction?: 'abort' | 'force_complete';
}

/**
 * A command from the controller (ExecuteCommandRequest's oneof, after proto mapping): one union, as
 * Firecracker has one per VMM. `spawn` carries the VM's spec; the VM commands run on the VM's state
 * machine (SimulatedHost.execute); `prepare_migrate_in`, `migrate_out`, `abort_migration` and
 * `force_complete_migration` are run by LiveMigrations.
 */
export type HostCommand =
  | { type: 'spawn'; spec: VmSpec }
  | Exclude<VmCommand, { type: 'spawn' | 'boot_complete' | 'migrate_in' | 'migrate_out' | 'crash' }>
  | { type: 'prepare_migrate_in'; migrationId: string; spec: VmSpec }
  | { type: 'migrate_out'; params: MigrateOutParams }
  | { type: 'abort_migration'; migrationId: string }
  | { type: 'force_complete_migration'; migrationId: string };

/** The live-migration commands of {@link HostCommand}. */
export type MigrationCommand = Extract<HostCommand, { type: 'prepare_migrate_in' | 'migrate_out' | 'abort_migration' | 'force_complete_migration' }>;

/** The commands of {@link HostCommand} that run on one VM's state machine. */
export type VmHostCommand = Exclude<HostCommand, MigrationCommand>;

const MIGRATION_TYPES: ReadonlySet<HostCommand['type']> = new Set(['prepare_migrate_in', 'migrate_out', 'abort_migration', 'force_complete_migration']);

/** True for the live-migration commands. */
export function isMigrationCommand(c: HostCommand): c is MigrationCommand {
  return MIGRATION_TYPES.has(c.type);
}

/** Reason reported after each synchronous command (nova's instance action names, past tense). */
export const REPORT_REASONS: Record<Exclude<VmHostCommand['type'], 'spawn'>, string> = {
  destroy: 'destroyed',
  power_off: 'powered_off',
  power_on: 'powered_on',
  reboot: 'rebooted',
  pause: 'paused',
  unpause: 'unpaused',
  suspend: 'suspended',
  resume: 'resumed',
  snapshot: 'snapshotted',
  attach_volume: 'volume_attached',
  detach_volume: 'volume_detached',
  attach_interface: 'interface_attached',
  detach_interface: 'interface_detached',
  resize: 'resized',
};

/** Commands that are no-ops (idempotent success, no report) when the VM is already in this state. */
const TARGET_STATE: Partial<Record<VmHostCommand['type'], VmRecord['state']>> = {
  power_off: 'shutdown',
  power_on: 'running',
  pause: 'paused',
  unpause: 'running',
  suspend: 'suspended',
  resume: 'running',
};

/** True when `cmd` has nothing left to do on `vm` (already in the target state, volume or port already (de)tached). */
export function alreadyDone(vm: VmRecord, cmd: VmHostCommand): boolean {
  if (vm.gone) return false;
  if (TARGET_STATE[cmd.type] === vm.state) return true;
  if (cmd.type === 'attach_volume') return vm.volumeIds.includes(cmd.volumeId);
  if (cmd.type === 'detach_volume') return !vm.volumeIds.includes(cmd.volumeId);
  if (cmd.type === 'attach_interface') return vm.interfaces.some((i) => i.portId === cmd.portId);
  if (cmd.type === 'detach_interface') return !vm.interfaces.some((i) => i.portId === cmd.portId);
  return false;
}
