import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import {
  apply,
  assertCanHost,
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
import type { AcquiredImage, ImageWant } from './image-store';
import type { VmSpec } from './vm-spec';

/** A command from the controller, after proto mapping. `spawn` carries the VM's spec. */
export type HostCommand =
  | { type: 'spawn'; spec: VmSpec }
  | Exclude<VmCommand, { type: 'spawn' | 'boot_complete' | 'migrate_in' | 'migrate_out' | 'crash' }>;

/** The base-image cache as the host uses it (ImageStore in production, a fake in unit tests). */
export interface ImageProvider {
  acquire(want: ImageWant): Promise<AcquiredImage>;
  release(imageId: string): void;
  cachedImageIds(): string[];
  readonly cache: { readonly usedBytes: number };
}

/** A power-state report (events.InstancePowerStateReported without meta); sequence is per host. */
export interface PowerReport {
  readonly hostId: string;
  readonly instanceId: string;
  readonly epoch: number;
  readonly powerState: PowerState;
  readonly reason: string;
  readonly error: string;
  readonly sequence: number;
}

/** What the hypervisor knows of one VM (domain view of agent.v1.InstanceRuntime). Times in clock ms. */
export interface VmRuntime {
  readonly instanceId: string;
  readonly hostId: string;
  readonly powerState: PowerState;
  readonly building: boolean;
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly cpuUsageMhz: number;
  readonly cpuReadyRatio: number;
  readonly memoryActiveMb: number;
  readonly diskAllocatedBytes: number;
  readonly portIds: readonly string[];
  readonly volumeIds: readonly string[];
  readonly launchedAtMs?: number;
  readonly cpuUtilizationRatio: number;
  readonly epoch: number;
}

/** Host usage (domain view of agent.v1.HostUsage). */
export interface HostUsageReport {
  readonly vcpusUsed: number;
  readonly ramMbUsed: number;
  readonly diskGbUsed: number;
  readonly cpuUtilizationRatio: number;
  readonly powerWatts: number;
  readonly runningVms: number;
  readonly imageCacheBytes: number;
  /** DPM standby: powered off, 0 W. */
  readonly standby: boolean;
  /** Energy since the agent started, joules (model clock). */
  readonly energyJoulesTotal: number;
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
  /** Live migration: 'incoming' on the destination until the switch-over; 'outgoing' on the source while it runs. */
  migration?: { readonly role: 'incoming' | 'outgoing'; readonly migrationId: string; pausedBySwitchover?: boolean };
}

/** Reason reported after each synchronous command (nova's instance action names, past tense). */
const REASONS: Record<Exclude<HostCommand['type'], 'spawn'>, string> = {
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
const TARGET_STATE: Partial<Record<HostCommand['type'], VmRecord['state']>> = {
  power_off: 'shutdown',
  power_on: 'running',
  pause: 'paused',
  unpause: 'running',
  suspend: 'suspended',
  resume: 'running',
};

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
  execute(epoch: number, instanceId: string, command: HostCommand, requestId = ''): VmRuntime {
    this.assertEpoch(epoch);
    if (command.type !== 'destroy' && command.type !== 'power_off') this.assertNotIsolated();
    if (command.type === 'spawn') return this.spawn(command.spec);
    if (command.type === 'destroy') return this.destroy(instanceId, 'destroyed');
    const entry = this.vms.get(instanceId);
    if (!entry) throw new NotFoundError('instance', instanceId, `not on host ${this.hostId}`);
    if (requestId && entry.lastRequest?.requestId === requestId && entry.lastRequest.type === command.type) return this.runtimeOf(entry);
    if (this.alreadyDone(entry.vm, command)) return this.runtimeOf(entry);
    entry.vm = apply(entry.vm, command);
    this.closeInterval();
    if (command.type === 'power_on' || command.type === 'reboot') entry.launchedAtMs = this.deps.clock.nowMs();
    this.syncModel(entry, command.type === 'power_on' || command.type === 'reboot');
    if (this.model.has(instanceId)) {
      if (command.type === 'snapshot') this.model.disk(instanceId).snapshot();
      if (command.type === 'attach_interface') this.model.setVnic(instanceId, command.portId, true);
      if (command.type === 'detach_interface') this.model.setVnic(instanceId, command.portId, false);
    }
    this.modelDirty = true;
    entry.lastRequest = { requestId, type: command.type };
    this.emit(instanceId, powerStateOf(entry.vm), REASONS[command.type]);
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
    const workload = createWorkload(spec.workload);
    assertCanHost(this.deps.profile, [...this.vms.values()].map((e) => e.vm), spec.flavor, this.deps.limits);
    const vm = apply(defineVm(spec.instanceId, spec.flavor), { type: 'migrate_in', powerState: 'paused' });
    const entry: VmEntry = { vm, spec, workload, imagePinned: false, imageSizeBytes: 0, cancelled: false, migration: { role: 'incoming', migrationId } };
    this.closeInterval();
    this.vms.set(spec.instanceId, entry);
    this.model.addVm({
      instanceId: spec.instanceId, vcpus: spec.flavor.vcpus, ramMb: spec.flavor.ramMb, diskGb: spec.flavor.diskGb,
      imageId: spec.image?.imageId, imageSizeBytes: 0, workload, portIds: spec.portIds, cpu: spec.controls?.cpu, diskIo: spec.controls?.diskIo,
    });
    this.syncModel(entry, false);
    this.modelDirty = true;
    return this.runtimeOf(entry);
  }

  /** The migration a VM takes part in here, if any. */
  migrationOf(instanceId: string): { role: 'incoming' | 'outgoing'; migrationId: string } | undefined {
    return this.vms.get(instanceId)?.migration;
  }

  /**
   * Destination switch-over: the incoming VM resumes (running) and `migrated_in` is reported.
   * `launchedAtMs` (from the device state) keeps the guest's workload where it was on the source.
   * @throws NotFoundError when no incoming VM of this migration is here.
   */
  commitIncoming(instanceId: string, migrationId: string, launchedAtMs?: number): VmRuntime {
    const entry = this.incomingEntry(instanceId, migrationId);
    this.closeInterval();
    entry.vm = apply(entry.vm, { type: 'unpause' });
    entry.migration = undefined;
    entry.launchedAtMs = launchedAtMs ?? this.deps.clock.nowMs();
    this.syncModel(entry, true);
    this.modelDirty = true;
    this.emit(instanceId, 'running', 'migrated_in');
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
    this.closeInterval();
    entry.vm = apply(entry.vm, { type: 'crash' });
    this.syncModel(entry, false);
    this.modelDirty = true;
    this.emit(instanceId, 'crashed', reason, error);
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
    this.closeInterval();
    entry.vm = apply(entry.vm, { type: 'pause' });
    entry.migration.pausedBySwitchover = true;
    this.syncModel(entry, false);
    this.modelDirty = true;
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
    if (paused && entry.vm.state === 'paused') {
      this.closeInterval();
      entry.vm = apply(entry.vm, { type: 'unpause' });
      this.syncModel(entry, false);
      this.modelDirty = true;
      this.emit(instanceId, 'running', reason);
    }
  }

  /** Source: the destination runs the VM now; the local copy is removed (reported `nostate`, `migrated_out`). */
  completeOutgoing(instanceId: string): void {
    const entry = this.vms.get(instanceId);
    if (!entry) return;
    this.closeInterval();
    entry.vm = apply(entry.vm, { type: 'migrate_out' });
    entry.cancelled = true;
    this.model.removeVm(instanceId);
    this.modelDirty = true;
    this.releaseImage(entry);
    this.vms.delete(instanceId);
    this.emit(instanceId, 'nostate', 'migrated_out');
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
      entry.vm = apply(entry.vm, { type: 'power_off' });
      this.closeInterval();
      this.syncModel(entry, false);
      this.modelDirty = true;
      this.emit(entry.vm.instanceId, 'shutdown', reason);
      done.push(entry.vm.instanceId);
    }
    return done;
  }

  /** Runtimes of every VM on the host (building ones included). */
  runtimes(): VmRuntime[] {
    return [...this.vms.values()].map((e) => this.runtimeOf(e));
  }

  runtime(instanceId: string): VmRuntime | undefined {
    const e = this.vms.get(instanceId);
    return e && this.runtimeOf(e);
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
    const vm = apply(defineVm(spec.instanceId, spec.flavor), { type: 'spawn' });
    const workload = createWorkload(spec.workload);
    assertCanHost(this.deps.profile, [...this.vms.values()].map((e) => e.vm), spec.flavor, this.deps.limits);
    const entry: VmEntry = { vm, spec, workload, imagePinned: false, imageSizeBytes: 0, cancelled: false };
    this.vms.set(spec.instanceId, entry);
    void this.runSpawn(entry);
    return this.runtimeOf(entry);
  }

  private async runSpawn(entry: VmEntry): Promise<void> {
    const { clock } = this.deps;
    const startedMs = clock.nowMs();
    const id = entry.spec.instanceId;
    try {
      const image = entry.spec.image ? await this.deps.images.acquire(entry.spec.image) : { cached: true, sizeBytes: 0 };
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
      this.emit(id, 'nostate', 'spawn_failed', e instanceof Error ? e.message : String(e));
    }
  }

  private bootComplete(entry: VmEntry, startedMs: number): void {
    entry.bootTimer = undefined;
    if (entry.cancelled) return;
    const now = this.deps.clock.nowMs();
    entry.vm = apply(entry.vm, { type: 'boot_complete' });
    entry.launchedAtMs = now;
    this.closeInterval();
    const { spec } = entry;
    this.model.addVm({
      instanceId: spec.instanceId, vcpus: spec.flavor.vcpus, ramMb: spec.flavor.ramMb, diskGb: spec.flavor.diskGb,
      imageId: spec.image?.imageId, imageSizeBytes: entry.imageSizeBytes, workload: entry.workload, portIds: spec.portIds, cpu: spec.controls?.cpu, diskIo: spec.controls?.diskIo,
    });
    this.syncModel(entry, true);
    this.modelDirty = true;
    this.emit(entry.vm.instanceId, 'running', 'spawned');
    this.deps.onSpawnSeconds?.((now - startedMs) / 1000);
  }

  private destroy(instanceId: string, reason: string): VmRuntime {
    const entry = this.vms.get(instanceId);
    if (entry) {
      entry.cancelled = true;
      if (entry.bootTimer) this.deps.clock.clearTimeout(entry.bootTimer);
      entry.vm = apply(entry.vm, { type: 'destroy' });
      this.closeInterval();
      this.model.removeVm(instanceId);
      this.modelDirty = true;
      this.releaseImage(entry);
      this.vms.delete(instanceId);
    }
    // Reported even for an unknown VM, so a controller waiting on the report after our restart finishes.
    this.emit(instanceId, 'nostate', reason);
    return entry ? this.runtimeOf(entry) : this.goneRuntime(instanceId);
  }

  private alreadyDone(vm: VmRecord, cmd: HostCommand): boolean {
    if (vm.gone) return false;
    if (TARGET_STATE[cmd.type] === vm.state) return true;
    if (cmd.type === 'attach_volume') return vm.volumeIds.includes(cmd.volumeId);
    if (cmd.type === 'detach_volume') return !vm.volumeIds.includes(cmd.volumeId);
    if (cmd.type === 'attach_interface') return vm.interfaces.some((i) => i.portId === cmd.portId);
    if (cmd.type === 'detach_interface') return !vm.interfaces.some((i) => i.portId === cmd.portId);
    return false;
  }

  private releaseImage(entry: VmEntry): void {
    if (entry.imagePinned && entry.spec.image) this.deps.images.release(entry.spec.image.imageId);
    entry.imagePinned = false;
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
    const m = this.modelSnapshot().vms.get(e.vm.instanceId);
    return {
      instanceId: e.vm.instanceId,
      hostId: this.hostId,
      powerState: powerStateOf(e.vm),
      building: e.vm.state === 'building',
      vcpus: e.vm.flavor.vcpus,
      ramMb: e.vm.flavor.ramMb,
      diskGb: e.vm.flavor.diskGb,
      cpuUtilizationRatio: m?.cpuUtilizationRatio ?? 0,
      cpuUsageMhz: m?.cpu.usageMhz ?? 0,
      cpuReadyRatio: m?.cpu.readyRatio ?? 0,
      memoryActiveMb: Math.round(m?.memory.activeMb ?? 0),
      diskAllocatedBytes: m?.disk.chainAllocatedBytes ?? 0,
      portIds: [...e.spec.portIds, ...e.vm.interfaces.map((i) => i.portId).filter((id) => !e.spec.portIds.includes(id))],
      volumeIds: e.vm.volumeIds.length ? e.vm.volumeIds : e.spec.volumeIds,
      launchedAtMs: e.launchedAtMs,
      epoch: this.epochValue,
    };
  }

  private goneRuntime(instanceId: string): VmRuntime {
    return {
      instanceId, hostId: this.hostId, powerState: 'nostate', building: false, vcpus: 0, ramMb: 0, diskGb: 0, cpuUtilizationRatio: 0,
      cpuUsageMhz: 0, cpuReadyRatio: 0, memoryActiveMb: 0, diskAllocatedBytes: 0, portIds: [], volumeIds: [], epoch: this.epochValue,
    };
  }
}

