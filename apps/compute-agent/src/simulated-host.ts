import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { FailedPreconditionError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import {
  apply,
  admitsNewVms,
  assertCanHost,
  cannotMigrateGuestCpu,
  createWorkload,
  defineVm,
  DEFAULT_BOOT_MODEL,
  DEFAULT_HOST_MODEL_CONFIG,
  HostModel,
  powerStateOf,
  resourceReport,
  spawnDurationMs,
  type BootModelConfig,
  type HostModelConfig,
  type HostModelSnapshot,
  type HostLimits,
  type HostProfile,
  type PowerState,
  type VmCommand,
  type VmRecord,
  type WorkloadModel,
} from '@minicloud/domain-hypervisor';
import { alreadyDone, REPORT_REASONS, type VmHostCommand } from './host-command';
import type { AcquiredImage, ImageWant } from './image-store';
import type { GuestConsoles } from './guest/guest-consoles';
import { goneRuntime, vmRuntime, type HostUsageReport, type PowerReport, type VmRuntime } from './vm-runtime';
import type { VmSpec } from './vm-spec';

export type { HostCommand, VmHostCommand } from './host-command';
export type { HostUsageReport, PowerReport, VmRuntime } from './vm-runtime';

/** The base-image cache as the host uses it (ImageStore in production, a fake in unit tests). */
export interface ImageProvider {
  acquire(want: ImageWant): Promise<AcquiredImage>;
  release(imageId: string): void;
  cachedImageIds(): string[];
  readonly cache: { readonly usedBytes: number };
}

export interface SimulatedHostDeps {
  readonly profile: HostProfile;
  readonly clock: Clock;
  readonly images: ImageProvider;
  /** Called synchronously, in sequence order, for every power-state change. */
  readonly report: (r: PowerReport) => void;
  readonly bootModel?: BootModelConfig;
  /** CPU/memory/disk/network model settings (domain-hypervisor HostModel). */
  readonly modelConfig?: HostModelConfig;
  readonly limits?: HostLimits;
  /** A command carried an epoch newer than ours: we were re-registered/fenced elsewhere; re-register. */
  readonly onNewerEpoch?: (epoch: number) => void;
  /** Duration of each successful spawn, seconds of clock time. */
  readonly onSpawnSeconds?: (seconds: number) => void;
  readonly onError?: (e: unknown, instanceId: string) => void;
  /** The guests' consoles and cloud-init (a VM whose spec has a guest boots one); none: consoles stay empty. */
  readonly guests?: GuestConsoles;
  /** Called after any VM's state changed (or it left the host): what serves its guest (sshd) re-reads. */
  readonly onVmChanged?: (instanceId: string) => void;
}

interface VmEntry {
  vm: VmRecord;
  readonly spec: VmSpec;
  readonly workload: WorkloadModel;
  launchedAtMs?: number;
  imagePinned: boolean;
  imageSizeBytes: number;
  bootTimer?: TimerHandle;
  cancelled: boolean;
  lastRequest?: { requestId: string; type: string };
  /** Sizes (GiB) of the volumes the guest sees, by volume id (the spawn's volumes, then each attach's). */
  readonly volumeSizesGb: Map<string, number>;
  /** Live migration: 'incoming' on the destination until the switch-over; 'outgoing' on the source while it runs. */
  migration?: { readonly role: 'incoming' | 'outgoing'; readonly migrationId: string; pausedBySwitchover?: boolean };
}

/**
 * One simulated hypervisor host: its epoch, its VMs (one state machine each, from
 * domain-hypervisor) and the command dispatcher of docs/agent-protocol.md. Spawn returns at once with
 * the VM building; the image fetch and the boot model's remaining time run asynchronously on the
 * injected clock, and the outcome is reported ('spawned' / 'spawn_failed').
 */
export class SimulatedHost {
  /** 0 until the controller registered us. */
  private epochValue = 0;
  private isolationHold = false;
  private sequence: number;
  private readonly vms = new Map<string, VmEntry>();
  private readonly bootModel: BootModelConfig;
  /** The host's CPU/memory/disk/vNIC models; VMs join it when their boot completes. */
  readonly model: HostModel;
  private modelDirty = false;

  constructor(private readonly deps: SimulatedHostDeps) {
    this.bootModel = deps.bootModel ?? DEFAULT_BOOT_MODEL;
    this.model = new HostModel(deps.profile, deps.clock.nowMs(), deps.modelConfig ?? DEFAULT_HOST_MODEL_CONFIG);
    // Starts at clock-ms x 1000 so sequences stay monotonic across a process restart.
    this.sequence = Math.floor(deps.clock.nowMs()) * 1000;
  }

  get hostId(): string {
    return this.deps.profile.hostId;
  }

  get profile(): HostProfile {
    return this.deps.profile;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Advances the host's models to the clock's now (the agent's model tick) and returns the snapshot. */
  tick(): HostModelSnapshot {
    this.modelDirty = false;
    return this.model.tick(this.deps.clock.nowMs());
  }

  /**
   * The latest model tick; recomputed at the clock's now first when a VM changed since (so a boot storm
   * of N VMs costs one recomputation, not N).
   */
  modelSnapshot(): HostModelSnapshot {
    return this.modelDirty ? this.tick() : this.model.snapshot;
  }

  /** Sets the epoch returned by RegisterHost. */
  setEpoch(epoch: number): void {
    this.epochValue = epoch;
  }

  /**
   * Start hold: set when the host applied its isolation response (power_off/shutdown) or fenced itself
   * (lease lost), cleared by a fresh registration that renewed the lease. While held the host refuses every command but destroy and power_off, so a VM
   * the controller may restart elsewhere cannot be started here again (host-agent.ts).
   */
  setIsolationHold(on: boolean): void {
    this.isolationHold = on;
  }

  get isolated(): boolean {
    return this.isolationHold;
  }

  /** @throws FailedPreconditionError reason "host_isolated" while the isolation hold is set */
  assertNotIsolated(): void {
    if (this.isolationHold) throw new FailedPreconditionError(`host ${this.hostId} is isolated or self-fenced: it starts no VM until it registers again`, 'host_isolated');
  }

  /**
   * Runs one controller command (docs/agent-protocol.md).
   * @throws FailedPreconditionError reason "stale_epoch" when `epoch` is not the current one (a newer
   *   one also calls onNewerEpoch); ResourceExhaustedError ("host_*_exhausted") for a spawn the host
   *   cannot hold; NotFoundError ("instance") for a non-spawn/destroy command on an unknown VM;
   *   InvalidVmTransitionError (FAILED_PRECONDITION naming the power state) for a refused transition.
   */
  execute(epoch: number, instanceId: string, command: VmHostCommand, requestId = ''): VmRuntime {
    this.assertEpoch(epoch);
    if (command.type !== 'destroy' && command.type !== 'power_off') this.assertNotIsolated();
    if (command.type === 'spawn') return this.spawn(command.spec);
    if (command.type === 'destroy') return this.destroy(instanceId, 'destroyed');
    const entry = this.vms.get(instanceId);
    if (!entry) throw new NotFoundError('instance', instanceId, `not on host ${this.hostId}`);
    if (requestId && entry.lastRequest?.requestId === requestId && entry.lastRequest.type === command.type) return this.runtimeOf(entry);
    if (alreadyDone(entry.vm, command)) return this.runtimeOf(entry);
    const boots = command.type === 'power_on' || command.type === 'reboot';
    const unpluggedMac = command.type === 'detach_interface' ? entry.vm.interfaces.find((i) => i.portId === command.portId)?.macAddress : undefined;
    this.update(entry, command, { launchedAtMs: boots ? this.deps.clock.nowMs() : undefined });
    if (command.type === 'attach_interface') this.deps.guests?.plugNic(instanceId, command.macAddress);
    if (unpluggedMac) this.deps.guests?.unplugNic(instanceId, unpluggedMac);
    if (boots && entry.spec.guest) this.deps.guests?.boot(entry.spec.guest, this.deps.clock.nowMs());
    if (this.model.has(instanceId)) {
      if (command.type === 'snapshot') this.model.disk(instanceId).snapshot();
      if (command.type === 'attach_volume' && command.sizeGb) entry.volumeSizesGb.set(command.volumeId, command.sizeGb);
      if (command.type === 'attach_interface') this.model.setVnic(instanceId, command.portId, true);
      if (command.type === 'detach_interface') this.model.setVnic(instanceId, command.portId, false);
    }
    entry.lastRequest = { requestId, type: command.type };
    this.emit(instanceId, powerStateOf(entry.vm), REPORT_REASONS[command.type]);
    return this.runtimeOf(entry);
  }

  /**
   * Checks the epoch a command (or a migration stream) carries.
   * @throws FailedPreconditionError reason "stale_epoch" when it is not the current one (a newer one
   *   also calls onNewerEpoch).
   */
  assertEpoch(epoch: number): void {
    if (epoch !== this.epochValue) {
      if (epoch > this.epochValue) this.deps.onNewerEpoch?.(epoch);
      throw new FailedPreconditionError(`stale epoch ${epoch} for host ${this.hostId}: current epoch is ${this.epochValue}`, 'stale_epoch');
    }
  }

  /**
   * Live migration, destination side (prepare_migrate_in): defines the incoming VM paused, as QEMU
   * started with `-incoming` (libvirt reports it paused, reason migration), holding its resources and
   * memory on this host. Not reported (the controller learns the outcome from `migrated_in` /
   * `migration_aborted`). Idempotent for the same migration id.
   * @throws FailedPreconditionError ("instance_exists") when the VM is already here outside this
   *   migration; ResourceExhaustedError when the host cannot hold it.
   */
  prepareIncoming(spec: VmSpec, migrationId: string): VmRuntime {
    const existing = this.vms.get(spec.instanceId);
    if (!existing) this.assertPoweredOn();
    if (existing) {
      if (existing.migration?.role === 'incoming' && existing.migration.migrationId === migrationId) return this.runtimeOf(existing);
      throw new FailedPreconditionError(`instance ${spec.instanceId} is already on host ${this.hostId}`, 'instance_exists');
    }
    this.assertCpuFits(spec);
    this.assertMemoryAdmits(spec);
    const workload = createWorkload(spec.workload);
    assertCanHost(this.deps.profile, [...this.vms.values()].map((e) => e.vm), spec.flavor, this.deps.limits);
    const entry: VmEntry = { vm: withSpecInterfaces(defineVm(spec.instanceId, spec.flavor), spec), spec, workload, imagePinned: false, imageSizeBytes: 0, cancelled: false, volumeSizesGb: volumeSizesOf(spec), migration: { role: 'incoming', migrationId } };
    this.update(entry, { type: 'migrate_in', powerState: 'paused' }, { join: true });
    this.vms.set(spec.instanceId, entry);
    if (spec.guest) this.deps.guests?.adoptMigrated(spec.guest);
    return this.runtimeOf(entry);
  }

  /** The migration a VM takes part in here, if any. */
  migrationOf(instanceId: string): { role: 'incoming' | 'outgoing'; migrationId: string } | undefined {
    return this.vms.get(instanceId)?.migration;
  }

  /**
   * Destination switch-over: the incoming VM resumes (running) and `migrated_in` is reported.
   * `launchedAtMs` (from the device state) keeps the guest's workload where it was on the source.
   * `reason` is what is reported: `migrated_in`, or `ft_failover` for an FT standby copy made live.
   * @throws NotFoundError when no incoming VM of this migration is here.
   */
  commitIncoming(instanceId: string, migrationId: string, launchedAtMs?: number, reason = 'migrated_in'): VmRuntime {
    const entry = this.incomingEntry(instanceId, migrationId);
    this.update(entry, { type: 'unpause' }, { launchedAtMs: launchedAtMs ?? this.deps.clock.nowMs() });
    entry.migration = undefined;
    this.emit(instanceId, 'running', reason);
    return this.runtimeOf(entry);
  }

  /** Destination: drops the incoming VM of `migrationId` (reported `nostate`, `reason`); no-op when absent. */
  discardIncoming(instanceId: string, migrationId: string, reason = 'migration_aborted'): boolean {
    const entry = this.vms.get(instanceId);
    if (entry?.migration?.role !== 'incoming' || entry.migration.migrationId !== migrationId) return false;
    this.destroy(instanceId, reason);
    return true;
  }

  /** Destination, post-copy: pages could not be pulled any more; the guest crashes (reported `crashed`, `reason`). */
  crash(instanceId: string, reason: string, error = ''): void {
    const entry = this.vms.get(instanceId);
    if (!entry || entry.vm.state !== 'running') return;
    this.update(entry, { type: 'crash' }, { report: { reason, error } });
  }

  /**
   * Source: marks a running or paused VM as migrating out.
   * @throws NotFoundError for an unknown VM; FailedPreconditionError ("migration_in_progress") when it
   *   already migrates; InvalidVmTransitionError when its state does not allow live migration.
   */
  beginOutgoing(instanceId: string, migrationId: string): VmRuntime {
    const entry = this.vms.get(instanceId);
    if (!entry) throw new NotFoundError('instance', instanceId, `not on host ${this.hostId}`);
    if (entry.migration) {
      if (entry.migration.role === 'outgoing' && entry.migration.migrationId === migrationId) return this.runtimeOf(entry);
      throw new FailedPreconditionError(`instance ${instanceId} already takes part in migration ${entry.migration.migrationId}`, 'migration_in_progress');
    }
    apply(entry.vm, { type: 'migrate_out' }); // validates the state only
    entry.migration = { role: 'outgoing', migrationId };
    return this.runtimeOf(entry);
  }

  /** Source stop-and-copy: pauses the running guest (not reported: a transient state of the migration). */
  pauseForSwitchover(instanceId: string): void {
    const entry = this.vms.get(instanceId);
    if (!entry?.migration || entry.vm.state !== 'running') return;
    this.update(entry, { type: 'pause' });
    entry.migration.pausedBySwitchover = true;
  }

  /**
   * Source: the migration failed or was aborted; the VM stays here, resumed if the switch-over had
   * paused it (reported `running`, `reason` only then).
   */
  endOutgoing(instanceId: string, reason = 'migration_aborted'): void {
    const entry = this.vms.get(instanceId);
    if (entry?.migration?.role !== 'outgoing') return;
    const paused = entry.migration.pausedBySwitchover;
    entry.migration = undefined;
    if (paused && entry.vm.state === 'paused') this.update(entry, { type: 'unpause' }, { report: { reason } });
  }

  /** Source: the destination runs the VM now; the local copy is removed (reported `nostate`, `migrated_out`). */
  completeOutgoing(instanceId: string): void {
    const entry = this.vms.get(instanceId);
    if (entry) this.update(entry, { type: 'migrate_out' }, { report: { reason: 'migrated_out' } });
  }

  /** The guest's current (unthrottled) memory dirty rate from its workload model, bytes/s (0 when not running). */
  dirtyRateBytesPerSecond(instanceId: string): number {
    return (this.modelSnapshot().vms.get(instanceId)?.dirtyRateMbPerSecond ?? 0) * 2 ** 20;
  }

  private incomingEntry(instanceId: string, migrationId: string): VmEntry {
    const entry = this.vms.get(instanceId);
    if (entry?.migration?.role !== 'incoming' || entry.migration.migrationId !== migrationId) {
      throw new NotFoundError('incoming_migration', migrationId, `instance ${instanceId} on host ${this.hostId}`);
    }
    return entry;
  }

  /** Destroys VMs the controller no longer places here (registration's destroy_instance_ids). */
  destroyAll(instanceIds: readonly string[], reason = 'destroyed'): void {
    for (const id of instanceIds) this.destroy(id, reason);
  }

  /** Powers off every running/paused VM (self-fencing when the lease cannot be renewed). Returns the ids. */
  powerOffAll(reason: string): string[] {
    const done: string[] = [];
    for (const entry of this.vms.values()) {
      if (entry.vm.state !== 'running' && entry.vm.state !== 'paused') continue;
      this.update(entry, { type: 'power_off' }, { report: { reason } });
      done.push(entry.vm.instanceId);
    }
    return done;
  }

  /**
   * Sets the running guest's root password (libvirt's set_user_password through the guest agent).
   * Not reported: the power state does not change.
   * @throws FailedPreconditionError ("stale_epoch", "host_isolated", or "instance_not_running" when the
   *   guest agent cannot answer: the VM is not running); NotFoundError ("instance") for a VM not on this host
   */
  setAdminPassword(epoch: number, instanceId: string, password: string): VmRuntime {
    this.assertEpoch(epoch);
    this.assertNotIsolated();
    const entry = this.vms.get(instanceId);
    if (!entry) throw new NotFoundError('instance', instanceId, `not on host ${this.hostId}`);
    if (entry.vm.state !== 'running' || !this.deps.guests?.setRootPassword(instanceId, password)) {
      throw new FailedPreconditionError(`instance ${instanceId} is ${entry.vm.state}: its guest agent cannot set a password`, 'instance_not_running');
    }
    return this.runtimeOf(entry);
  }

  /**
   * The tail of a VM's serial console (GuestConsoles.output: undefined or -1 all, 0 nothing, N last lines).
   * @throws NotFoundError ("instance") for a VM not on this host
   */
  consoleOutput(instanceId: string, length?: number): string {
    if (!this.vms.has(instanceId)) throw new NotFoundError('instance', instanceId, `not on host ${this.hostId}`);
    return this.deps.guests?.output(instanceId, length) ?? '';
  }

  /** Runtimes of every VM on the host (building ones included). */
  runtimes(): VmRuntime[] {
    return [...this.vms.values()].map((e) => this.runtimeOf(e));
  }

  runtime(instanceId: string): VmRuntime | undefined {
    const e = this.vms.get(instanceId);
    return e && this.runtimeOf(e);
  }

  /** The running VM one of whose vNICs is this port (its boot completed), or undefined. Reads no model. */
  runningVmOfPort(portId: string): string | undefined {
    for (const e of this.vms.values()) {
      if (e.vm.state === 'running' && (e.spec.portIds.includes(portId) || e.vm.interfaces.some((i) => i.portId === portId))) return e.vm.instanceId;
    }
    return undefined;
  }

  /**
   * The disks the VM's guest sees, in bus order (vda, vdb, ...): the image's root disk at the
   * flavor's size, then each attached volume (a size never given: 1 GiB). [] for an unknown VM.
   */
  guestDisks(instanceId: string): { device: string; sizeGb: number }[] {
    const e = this.vms.get(instanceId);
    if (!e) return [];
    const volumeIds = e.vm.volumeIds.length ? e.vm.volumeIds : e.spec.volumeIds;
    const sizes = [...(e.spec.image ? [e.spec.flavor.diskGb] : []), ...volumeIds.map((id) => e.volumeSizesGb.get(id) ?? 1)];
    return sizes.map((sizeGb, i) => ({ device: `vd${String.fromCharCode(97 + (i % 26))}`, sizeGb }));
  }

  /** Ids of VMs whose power state is running. */
  runningIds(): string[] {
    return [...this.vms.values()].filter((e) => e.vm.state === 'running').map((e) => e.vm.instanceId);
  }

  /** Allocation, CPU utilisation (workload models at the clock's now) and power (SPECpower model). */
  usage(): HostUsageReport {
    const p = this.deps.profile;
    const report = resourceReport(p, [...this.vms.values()].map((e) => e.vm));
    const snap = this.modelSnapshot();
    return {
      vcpusUsed: report.allocated.vcpus,
      ramMbUsed: report.allocated.ramMb,
      diskGbUsed: report.allocated.diskGb,
      cpuUtilizationRatio: snap.cpu.utilizationRatio,
      powerWatts: snap.powerWatts,
      runningVms: this.runningIds().length,
      imageCacheBytes: this.deps.images.cache.usedBytes,
      standby: this.model.standby,
      energyJoulesTotal: snap.energyJoulesTotal,
      memoryState: snap.memory.state,
    };
  }

  /**
   * DPM: enters standby (the host powers off and draws 0 W; it takes no VM until woken) or leaves it.
   * Idempotent.
   * @throws FailedPreconditionError ("stale_epoch"; "host_not_empty" when entering with VMs defined).
   */
  setStandby(epoch: number, standby: boolean): HostUsageReport {
    this.assertEpoch(epoch);
    if (this.model.standby !== standby) {
      if (standby && this.vms.size > 0) throw new FailedPreconditionError(`host ${this.hostId} holds ${this.vms.size} VMs`, 'host_not_empty');
      this.model.setStandby(standby, this.deps.clock.nowMs());
    }
    return this.usage();
  }

  /**
   * The guest's CPU must be one this host's CPU provides (libvirt refuses to start or receive a guest
   * whose CPU the host lacks; for an incoming live migration this is Nova's destination check).
   * @throws FailedPreconditionError ("cpu_incompatible") naming the model or the missing flags
   */
  private assertCpuFits(spec: VmSpec): void {
    const why = spec.guestCpu ? cannotMigrateGuestCpu(spec.guestCpu, this.deps.profile) : undefined;
    if (why) throw new FailedPreconditionError(`host ${this.hostId} cannot run instance ${spec.instanceId}: ${why}`, 'cpu_incompatible');
  }

  /**
   * ESXi's memory state `low` blocks new allocations: no spawn and no incoming migration while the last
   * model tick found free memory below the low threshold.
   * @throws ResourceExhaustedError ("host_memory_low"; the controller reschedules the build elsewhere)
   */
  private assertMemoryAdmits(spec: VmSpec): void {
    const memory = this.modelSnapshot().memory;
    if (admitsNewVms(memory.state)) return;
    throw new ResourceExhaustedError(
      `host ${this.hostId} is in memory state ${memory.state} (${Math.round(memory.freeMb)} MB free of ${this.deps.profile.ramMb} MB): it takes no new VM such as ${spec.instanceId}`,
      'host_memory_low',
    );
  }

  private assertPoweredOn(): void {
    if (this.model.standby) throw new FailedPreconditionError(`host ${this.hostId} is in standby`, 'host_standby');
  }

  cachedImageIds(): string[] {
    return this.deps.images.cachedImageIds();
  }

  private spawn(spec: VmSpec): VmRuntime {
    const existing = this.vms.get(spec.instanceId);
    if (existing) return this.runtimeOf(existing);
    this.assertPoweredOn();
    this.assertCpuFits(spec);
    this.assertMemoryAdmits(spec);
    const vm = apply(withSpecInterfaces(defineVm(spec.instanceId, spec.flavor), spec), { type: 'spawn' });
    const workload = createWorkload(spec.workload);
    assertCanHost(this.deps.profile, [...this.vms.values()].map((e) => e.vm), spec.flavor, this.deps.limits);
    const entry: VmEntry = { vm, spec, workload, imagePinned: false, imageSizeBytes: 0, cancelled: false, volumeSizesGb: volumeSizesOf(spec) };
    this.vms.set(spec.instanceId, entry);
    void this.runSpawn(entry);
    return this.runtimeOf(entry);
  }

  private async runSpawn(entry: VmEntry): Promise<void> {
    const { clock } = this.deps;
    const startedMs = clock.nowMs();
    const id = entry.spec.instanceId;
    // The guest's datasource is read while the image arrives (never throws: it falls back to the config drive).
    const guestReady = entry.spec.guest ? this.deps.guests?.prepare(entry.spec.guest) : undefined;
    try {
      const image = entry.spec.image ? await this.deps.images.acquire(entry.spec.image) : { cached: true, sizeBytes: 0 };
      await guestReady;
      if (entry.spec.image) entry.imagePinned = true;
      entry.imageSizeBytes = image.sizeBytes;
      if (entry.cancelled) {
        this.releaseImage(entry);
        return;
      }
      const model = spawnDurationMs(image.sizeBytes, image.cached, this.bootModel);
      const remainingMs = Math.max(0, model.totalMs - (clock.nowMs() - startedMs));
      entry.bootTimer = clock.setTimeout(() => this.bootComplete(entry, startedMs), remainingMs);
    } catch (e) {
      if (entry.cancelled) return;
      this.deps.onError?.(e, id);
      this.releaseImage(entry);
      this.vms.delete(id);
      this.deps.guests?.drop(id);
      this.emit(id, 'nostate', 'spawn_failed', e instanceof Error ? e.message : String(e));
    }
  }

  private bootComplete(entry: VmEntry, startedMs: number): void {
    entry.bootTimer = undefined;
    if (entry.cancelled) return;
    const now = this.deps.clock.nowMs();
    // The console holds the boot before the VM is reported running, so a caller that saw it running reads the whole boot.
    if (entry.spec.guest) this.deps.guests?.boot(entry.spec.guest, now);
    this.update(entry, { type: 'boot_complete' }, { launchedAtMs: now, join: true, report: { reason: 'spawned' } });
    this.deps.onSpawnSeconds?.((now - startedMs) / 1000);
  }

  private destroy(instanceId: string, reason: string): VmRuntime {
    const entry = this.vms.get(instanceId);
    if (entry) this.update(entry, { type: 'destroy' });
    // Reported even for an unknown VM, so a controller waiting on the report after our restart finishes.
    this.emit(instanceId, 'nostate', reason);
    return entry ? this.runtimeOf(entry) : goneRuntime(instanceId, this);
  }

  private releaseImage(entry: VmEntry): void {
    if (entry.imagePinned && entry.spec.image) this.deps.images.release(entry.spec.image.imageId);
    entry.imagePinned = false;
  }

  /**
   * The one way a VM's state changes: the models are integrated up to now under the old state, the
   * command is applied to the VM's state machine, then the model learns the new state (a VM that is
   * gone leaves the model, its image pin and the host; `join` adds it to the model first, with its
   * workload restarting at `launchedAtMs` when given) and, with `report`, the new power state is
   * reported. @throws InvalidVmTransitionError as domain-hypervisor's `apply`, before anything changed
   */
  private update(entry: VmEntry, cmd: VmCommand, o: { launchedAtMs?: number; join?: boolean; report?: { reason: string; error?: string } } = {}): void {
    this.closeInterval();
    entry.vm = apply(entry.vm, cmd);
    const id = entry.vm.instanceId;
    if (o.launchedAtMs !== undefined) entry.launchedAtMs = o.launchedAtMs;
    if (entry.vm.gone) {
      entry.cancelled = true;
      if (entry.bootTimer) this.deps.clock.clearTimeout(entry.bootTimer);
      this.model.removeVm(id);
      this.releaseImage(entry);
      this.vms.delete(id);
      this.deps.guests?.drop(id);
    } else {
      if (o.join) this.joinModel(entry);
      this.syncModel(entry, o.launchedAtMs !== undefined);
    }
    this.modelDirty = true;
    if (o.report) this.emit(id, powerStateOf(entry.vm), o.report.reason, o.report.error);
    this.deps.onVmChanged?.(id);
  }

  private joinModel(entry: VmEntry): void {
    const { spec } = entry;
    this.model.addVm({
      instanceId: spec.instanceId, vcpus: spec.flavor.vcpus, ramMb: spec.flavor.ramMb, diskGb: spec.flavor.diskGb,
      imageId: spec.image?.imageId, imageSizeBytes: entry.imageSizeBytes, workload: entry.workload, portIds: spec.portIds, cpu: spec.controls?.cpu, diskIo: spec.controls?.diskIo,
    });
  }

  private emit(instanceId: string, powerState: PowerState, reason: string, error = ''): void {
    this.sequence += 1;
    this.deps.report({ hostId: this.hostId, instanceId, epoch: this.epochValue, powerState, reason, error, sequence: this.sequence });
  }

  /** Integrates the models up to now under the current state, before a VM changes (no-op when no time passed). */
  private closeInterval(): void {
    if (this.deps.clock.nowMs() > this.model.snapshot.atMs) this.tick();
  }

  /** Tells the model what the VM's power state means: vCPUs run when running; memory held when running or paused. */
  private syncModel(e: VmEntry, booted: boolean): void {
    if (!this.model.has(e.vm.instanceId)) return;
    const running = e.vm.state === 'running';
    this.model.setPower(e.vm.instanceId, running, running || e.vm.state === 'paused', booted ? e.launchedAtMs : undefined);
  }

  private runtimeOf(e: VmEntry): VmRuntime {
    return vmRuntime(e, this.modelSnapshot().vms.get(e.vm.instanceId), this);
  }
}

/**
 * The VM with one vNIC per port of its spec (the NICs it is defined with, MACs from the guest's
 * hardware when modelled), so that a later detach_interface finds a boot-time port as it finds a
 * hot-plugged one.
 */
function withSpecInterfaces(vm: VmRecord, spec: VmSpec): VmRecord {
  return { ...vm, interfaces: spec.portIds.map((portId, i) => ({ portId, macAddress: spec.guest?.nics[i]?.macAddress ?? '' })) };
}

/** The spawn's volumes' sizes (GiB) by id, from the guest's disks (the image's root disk first when there is one). */
function volumeSizesOf(spec: VmSpec): Map<string, number> {
  const disks = spec.guest?.disks ?? [];
  const offset = spec.image ? 1 : 0;
  return new Map(spec.volumeIds.flatMap((id, i) => (disks[offset + i] ? [[id, disks[offset + i].sizeGb] as [string, number]] : [])));
}
