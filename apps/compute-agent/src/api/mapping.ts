import { agent, compute } from '@minicloud/proto';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { GuestCpu, PowerState, WorkloadSpec } from '@minicloud/domain-hypervisor';
import { readFlavorResourceControls } from '@minicloud/domain-compute';
import type { HostCommand, HostUsageReport, VmRuntime } from '../simulated-host';
import type { VmSpec } from '../vm-spec';
import { parseWorkload, seedOf, WORKLOAD_KEY } from '../workload-spec';
import { sanitizeHostname } from '@minicloud/domain-guest';
import type { GuestSpec } from '../guest/guest-spec';

const POWER: Record<PowerState, compute.PowerState> = {
  nostate: compute.PowerState.POWER_STATE_NOSTATE,
  running: compute.PowerState.POWER_STATE_RUNNING,
  paused: compute.PowerState.POWER_STATE_PAUSED,
  shutdown: compute.PowerState.POWER_STATE_SHUTDOWN,
  crashed: compute.PowerState.POWER_STATE_CRASHED,
  suspended: compute.PowerState.POWER_STATE_SUSPENDED,
};

/** Domain power state -> compute.v1.PowerState. */
export function toProtoPowerState(s: PowerState): compute.PowerState {
  return POWER[s];
}

/** VmRuntime -> agent.v1.InstanceRuntime (launched_at from clock ms). */
export function toProtoRuntime(r: VmRuntime): agent.InstanceRuntime {
  return agent.InstanceRuntime.fromPartial({
    instanceId: r.instanceId, hostId: r.hostId, powerState: toProtoPowerState(r.powerState), vcpus: r.vcpus, ramMb: r.ramMb,
    diskGb: r.diskGb, cpuUsageMhz: r.cpuUsageMhz, cpuReadyRatio: r.cpuReadyRatio, memoryActiveMb: r.memoryActiveMb,
    diskAllocatedBytes: r.diskAllocatedBytes, portIds: [...r.portIds], volumeIds: [...r.volumeIds],
    launchedAt: r.launchedAtMs === undefined ? undefined : new Date(r.launchedAtMs), epoch: r.epoch,
  });
}

/** HostUsageReport -> agent.v1.HostUsage. */
export function toProtoUsage(u: HostUsageReport): agent.HostUsage {
  return agent.HostUsage.fromPartial({
    vcpusUsed: u.vcpusUsed, ramMbUsed: u.ramMbUsed, diskGbUsed: u.diskGbUsed, cpuUtilizationRatio: u.cpuUtilizationRatio,
    powerWatts: u.powerWatts, runningVms: u.runningVms, imageCacheBytes: u.imageCacheBytes, standby: u.standby, energyJoulesTotal: u.energyJoulesTotal,
    memoryState: u.memoryState,
  });
}

/**
 * The VM's workload: spec.workload.model when set, else instance metadata `minicloud:workload`, else
 * the flavor extra spec `minicloud:workload`, else idle.
 * @throws InvalidArgumentError naming the field for a bad model.
 */
export function workloadOf(spec: agent.InstanceSpec, traceDir?: string): WorkloadSpec {
  const seed = spec.workload?.seed || seedOf(spec.instanceId);
  const w = spec.workload;
  if (w?.model) {
    const field = 'spawn.spec.workload';
    if (w.model === 'constant') return parseWorkload(`constant:${w.cpuUtilizationRatio}`, seed, field, traceDir);
    if (w.model === 'random_walk') return parseWorkload(`random_walk:${w.cpuUtilizationRatio}:${w.randomWalkStepRatio || ''}`, seed, field, traceDir);
    if (w.model === 'trace') return parseWorkload(`trace:${w.trace}`, seed, field, traceDir);
    return parseWorkload(w.model, seed, field, traceDir);
  }
  const meta = spec.metadata[WORKLOAD_KEY];
  if (meta) return parseWorkload(meta, seed, `spawn.spec.metadata.${WORKLOAD_KEY}`, traceDir);
  const extra = spec.flavor?.extraSpecs[WORKLOAD_KEY];
  if (extra) return parseWorkload(extra, seed, `spawn.spec.flavor.extra_specs.${WORKLOAD_KEY}`, traceDir);
  return { kind: 'idle' };
}

/** agent.v1.InstanceSpec -> VmSpec. @throws InvalidArgumentError naming `spawn.spec.*`. */
export function toVmSpec(instanceId: string, spec: agent.InstanceSpec | undefined, traceDir?: string): VmSpec {
  if (!spec) throw new InvalidArgumentError('spawn.spec', 'must be set');
  if (!spec.flavor) throw new InvalidArgumentError('spawn.spec.flavor', 'must be set');
  const id = spec.instanceId || instanceId;
  if (spec.instanceId && instanceId && spec.instanceId !== instanceId) {
    throw new InvalidArgumentError('spawn.spec.instance_id', `must equal instance_id ${instanceId}, got ${spec.instanceId}`);
  }
  return {
    instanceId: id,
    flavor: { vcpus: spec.flavor.vcpus, ramMb: spec.flavor.ramMb, diskGb: spec.flavor.diskGb },
    image: spec.image?.imageId ? { imageId: spec.image.imageId, sha256: spec.image.sha256 } : undefined,
    workload: workloadOf({ ...spec, instanceId: id }, traceDir),
    portIds: spec.ports.map((p) => p.portId),
    volumeIds: spec.volumes.map((v) => v.volumeId),
    controls: readFlavorResourceControls(spec.flavor.extraSpecs ?? {}, spec.flavor.vcpus, {
      reservationMhz: spec.cpuReservationMhz,
      limitMhz: spec.cpuLimitMhz,
      shares: spec.cpuShares,
    }),
    guest: guestOf(id, spec),
    guestCpu: guestCpuOf(spec.guestCpu),
  };
}

/** @throws InvalidArgumentError ('migrate_out.timeout_action') unless empty (abort), abort or force_complete */
function timeoutActionOf(v: string): 'abort' | 'force_complete' {
  if (v === '' || v === 'abort') return 'abort';
  if (v === 'force_complete') return 'force_complete';
  throw new InvalidArgumentError('migrate_out.timeout_action', `must be abort or force_complete, got ${JSON.stringify(v.slice(0, 32))}`);
}

const GUEST_CPU_MODES: ReadonlySet<string> = new Set(['host-passthrough', 'host-model', 'custom']);
/** At most this many guest CPU flags (/proc/cpuinfo lists about 150). */
const MAX_GUEST_CPU_FLAGS = 512;

/** @throws InvalidArgumentError ('spawn.spec.guest_cpu.<field>') for an unknown mode or too many flags */
function guestCpuOf(cpu: agent.GuestCpu | undefined): GuestCpu | undefined {
  if (!cpu) return undefined;
  if (!GUEST_CPU_MODES.has(cpu.mode)) throw new InvalidArgumentError('spawn.spec.guest_cpu.mode', `must be host-passthrough, host-model or custom, got ${JSON.stringify(cpu.mode.slice(0, 32))}`);
  if (cpu.flags.length > MAX_GUEST_CPU_FLAGS) throw new InvalidArgumentError('spawn.spec.guest_cpu.flags', `at most ${MAX_GUEST_CPU_FLAGS}, got ${cpu.flags.length}`);
  return { mode: cpu.mode as GuestCpu['mode'], model: cpu.model, flags: [...cpu.flags] };
}

/** The /dev/ name's last part ("/dev/vdb" -> "vdb"). */
const deviceOf = (name: string, i: number) => name.split('/').pop() || `vd${String.fromCharCode(98 + i)}`;

/**
 * The guest of an InstanceSpec: the config drive's data (hostname: spec.hostname, else Nova's
 * sanitized name; user data; key pair; admin_pass) and the virtual hardware (vda from the image at the flavor's
 * disk size, then attached volumes; one NIC per port with its first IPv4 address; subnets are /24
 * unless known, as the spec carries no prefix).
 */
export function guestOf(instanceId: string, spec: agent.InstanceSpec): GuestSpec {
  const flavor = spec.flavor!;
  const root = spec.image?.imageId ? [{ device: 'vda', sizeGb: flavor.diskGb }] : [];
  return {
    instanceId,
    name: spec.name,
    hostname: spec.hostname || sanitizeHostname(spec.name, `Server-${instanceId}`),
    projectId: spec.projectId,
    userData: spec.userData,
    keyName: spec.keyName,
    publicKey: spec.publicKey,
    adminPass: spec.adminPass,
    vcpus: flavor.vcpus,
    ramMb: flavor.ramMb,
    disks: [...root, ...spec.volumes.map((v, i) => ({ device: deviceOf(v.deviceName, i), sizeGb: v.sizeGb }))],
    nics: spec.ports.map((p) => ({ macAddress: p.macAddress, ipv4: p.ipAddresses.find((ip) => !ip.includes(':')), prefixLength: 24, ...(p.mtu ? { mtu: p.mtu } : {}) })),
  };
}

/**
 * The oneof of ExecuteCommandRequest -> HostCommand (the live-migration commands included).
 * @throws InvalidArgumentError (`command`) when none is set, naming `resize.flavor`,
 *   `prepare_migrate_in.spec`, `abort_migration.migration_id` or `force_complete_migration.migration_id`
 *   when those are missing.
 */
export function toHostCommand(req: agent.ExecuteCommandRequest, traceDir?: string): HostCommand {
  if (req.spawn) return { type: 'spawn', spec: toVmSpec(req.instanceId, req.spawn.spec, traceDir) };
  if (req.destroy) return { type: 'destroy' };
  if (req.powerOff) return { type: 'power_off' };
  if (req.powerOn) return { type: 'power_on' };
  if (req.reboot) return { type: 'reboot', hard: req.reboot.hard };
  if (req.pause) return { type: 'pause' };
  if (req.unpause) return { type: 'unpause' };
  if (req.suspend) return { type: 'suspend' };
  if (req.resume) return { type: 'resume' };
  if (req.snapshot) return { type: 'snapshot' };
  if (req.attachVolume) {
    const v = req.attachVolume.volume;
    return { type: 'attach_volume', volumeId: v?.volumeId ?? '', ...(v?.sizeGb ? { sizeGb: v.sizeGb } : {}) };
  }
  if (req.detachVolume) return { type: 'detach_volume', volumeId: req.detachVolume.volumeId };
  if (req.attachInterface) {
    return { type: 'attach_interface', portId: req.attachInterface.port?.portId ?? '', macAddress: req.attachInterface.port?.macAddress ?? '' };
  }
  if (req.detachInterface) return { type: 'detach_interface', portId: req.detachInterface.portId };
  if (req.resize) {
    const f = req.resize.flavor;
    if (!f) throw new InvalidArgumentError('resize.flavor', 'must be set');
    return { type: 'resize', flavor: { vcpus: f.vcpus, ramMb: f.ramMb, diskGb: f.diskGb } };
  }
  if (req.prepareMigrateIn) {
    const spec = req.prepareMigrateIn.spec;
    if (!spec) throw new InvalidArgumentError('prepare_migrate_in.spec', 'must be set');
    return { type: 'prepare_migrate_in', migrationId: req.prepareMigrateIn.migrationId, spec: toVmSpec(req.instanceId, spec, traceDir) };
  }
  if (req.migrateOut) {
    const m = req.migrateOut;
    return {
      type: 'migrate_out',
      params: {
        migrationId: m.migrationId, destHostId: m.destHostId, destEndpoint: m.destEndpoint, destEpoch: Number(m.destEpoch),
        maxBandwidthMbps: Number(m.maxBandwidthMbps), maxDowntimeMs: m.maxDowntimeMs, autoConverge: m.autoConverge, postCopy: m.postCopy,
        timeoutSeconds: m.timeoutSeconds, permitPostCopy: m.permitPostCopy, timeoutAction: timeoutActionOf(m.timeoutAction),
      },
    };
  }
  if (req.abortMigration) {
    if (!req.abortMigration.migrationId) throw new InvalidArgumentError('abort_migration.migration_id', 'must not be empty');
    return { type: 'abort_migration', migrationId: req.abortMigration.migrationId };
  }
  if (req.forceCompleteMigration) {
    if (!req.forceCompleteMigration.migrationId) throw new InvalidArgumentError('force_complete_migration.migration_id', 'must not be empty');
    return { type: 'force_complete_migration', migrationId: req.forceCompleteMigration.migrationId };
  }
  throw new InvalidArgumentError('command', 'one command must be set');
}
