import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { seededRng, type Rng } from '@minicloud/domain-clock';
import { allocateCpu, type CpuAllocation, type CpuPool, type CpuVm, type CpuVmAllocation } from './cpu-scheduler';
import { logicalCpus, totalCpuMhz, type HostProfile } from './host-profile';
import { DEFAULT_MEMORY_CONFIG, reclaimMemory, type MemoryConfig, type MemoryResult, type MemoryVmResult } from './memory-model';
import { powerWatts } from './power-model';
import { Qcow2Chain } from './qcow2-chain';
import { DiskIoThrottle, type DiskIoLimits } from './token-bucket';
import type { WorkloadModel } from './workload';

/**
 * How a VM's CPU utilisation drives its I/O (the rest of the workload; CPU and dirty rate come from the
 * WorkloadModel). Rates at 100 % CPU, scaled linearly by utilisation.
 */
export interface IoProfile {
  readonly diskIopsAtPeak: number;
  readonly ioSizeBytes: number;
  /** Fraction of disk operations that are writes. */
  readonly writeFraction: number;
  readonly netTxMbpsAtPeak: number;
  readonly netRxMbpsAtPeak: number;
  /** Mean packet size used to turn bytes into packet counters. */
  readonly packetBytes: number;
}

/** 200 IOPS of 64 KiB (30 % writes), 100 Mbit/s out, 50 Mbit/s in, 800-byte packets at 100 % CPU. Illustrative. */
export const DEFAULT_IO_PROFILE: IoProfile = Object.freeze({
  diskIopsAtPeak: 200, ioSizeBytes: 65_536, writeFraction: 0.3, netTxMbpsAtPeak: 100, netRxMbpsAtPeak: 50, packetBytes: 800,
});

/** Settings of a host's models. */
export interface HostModelConfig {
  readonly memory: MemoryConfig;
  readonly io: IoProfile;
  readonly cpuPools: readonly CpuPool[];
  /** Cluster size of the modelled QCOW2 overlays (1 MiB keeps block maps small). */
  readonly diskClusterBytes: number;
  /** Guest writes land uniformly on the first `diskHotRatio` of the disk (its working set). */
  readonly diskHotRatio: number;
  /** At most this many clusters are written per VM per tick (content is sampled, not every I/O). */
  readonly maxClusterWritesPerTick: number;
  /** Active memory = ramMb x max(minActiveRatio, cpu utilisation). */
  readonly minActiveRatio: number;
}

export const DEFAULT_HOST_MODEL_CONFIG: HostModelConfig = Object.freeze({
  memory: DEFAULT_MEMORY_CONFIG, io: DEFAULT_IO_PROFILE, cpuPools: [], diskClusterBytes: 2 ** 20, diskHotRatio: 0.25,
  maxClusterWritesPerTick: 8, minActiveRatio: 0.1,
});

/** What the model needs of one VM. */
export interface ModelVmSpec {
  readonly instanceId: string;
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly imageId?: string;
  readonly imageSizeBytes?: number;
  readonly workload: WorkloadModel;
  readonly cpu?: Pick<CpuVm, 'shares' | 'reservationMhz' | 'limitMhz' | 'pool' | 'pinnedCpuIds'>;
  readonly diskIo?: DiskIoLimits;
  readonly portIds: readonly string[];
}

/** Cumulative counters of one vNIC since it was plugged. */
export interface VnicCounters {
  readonly portId: string;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly rxPackets: number;
  readonly txPackets: number;
}

/** One VM in a tick. `run` = vCPUs run (power state running), `memory` held when running or paused. */
export interface VmModelSnapshot {
  readonly instanceId: string;
  readonly running: boolean;
  readonly vcpus: number;
  /** Workload demand as a ratio of the VM's vCPUs (what the trace says). */
  readonly cpuDemandRatio: number;
  /** usage / (vcpus x coreMhz): what the VM ran. */
  readonly cpuUtilizationRatio: number;
  readonly cpu: CpuVmAllocation;
  readonly cpuReadySecondsTotal: number;
  readonly memory: MemoryVmResult;
  readonly dirtyRateMbPerSecond: number;
  readonly disk: {
    readonly virtualBytes: number;
    readonly allocatedBytes: number;
    readonly chainAllocatedBytes: number;
    readonly layers: number;
    readonly readOpsTotal: number;
    readonly writeOpsTotal: number;
    readonly readBytesTotal: number;
    readonly writeBytesTotal: number;
    readonly throttledRatio: number;
  };
  readonly vnics: readonly VnicCounters[];
}

/** A whole host in a tick. `atMs` is the clock time the tick was computed for. */
export interface HostModelSnapshot {
  readonly atMs: number;
  readonly dtSeconds: number;
  readonly cpu: Omit<CpuAllocation, 'vms'>;
  readonly memory: Omit<MemoryResult, 'vms'>;
  readonly powerWatts: number;
  /**
   * Energy drawn since the model started, in joules: each interval is charged at the power of the
   * utilisation at its start (left Riemann sum, as CloudSim's PowerHost.getEnergyLinearInterpolation
   * approximates per scheduling interval).
   */
  readonly energyJoulesTotal: number;
  readonly vms: ReadonlyMap<string, VmModelSnapshot>;
}

interface VmState {
  readonly spec: ModelVmSpec;
  running: boolean;
  holdsMemory: boolean;
  workloadStartMs: number;
  touchedMb: number;
  balloonMb: number;
  readySeconds: number;
  readonly disk: Qcow2Chain;
  readonly io: DiskIoThrottle;
  readonly rng: Rng;
  dio: { readOps: number; writeOps: number; readBytes: number; writeBytes: number; throttled: number };
  nics: Map<string, { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }>;
  ticks: number;
}

/**
 * All models of one host (CPU share scheduler, ESXi memory reclamation, QCOW2 disks with I/O limits,
 * vNIC counters, power) advanced together by `tick(nowMs)`: rates are evaluated at nowMs and integrated
 * over the time since the previous tick, so one tick may cover any span (e.g. an hour at TIME_SCALE
 * 3600). Pure: time comes in as an argument, randomness from seeds.
 */
export class HostModel {
  private readonly vms = new Map<string, VmState>();
  private lastMs: number;
  private lastSnapshot: HostModelSnapshot;
  private energyJoules = 0;
  private standbyValue = false;

  constructor(readonly profile: HostProfile, startMs: number, readonly config: HostModelConfig = DEFAULT_HOST_MODEL_CONFIG) {
    this.lastMs = startMs;
    this.lastSnapshot = this.compute(startMs, 0);
  }

  /** The latest tick's results. */
  get snapshot(): HostModelSnapshot {
    return this.lastSnapshot;
  }

  has(instanceId: string): boolean {
    return this.vms.has(instanceId);
  }

  /**
   * Adds a VM (powered off, holding no memory) with a thin overlay on its image.
   * @throws InvalidArgumentError (`instance_id`) when already present.
   */
  addVm(spec: ModelVmSpec): void {
    if (this.vms.has(spec.instanceId)) throw new InvalidArgumentError('instance_id', `${spec.instanceId} is already modelled`);
    const virtual = Math.max(1, spec.diskGb) * 2 ** 30;
    const base = spec.imageId ? { imageId: spec.imageId, sizeBytes: Math.min(spec.imageSizeBytes ?? 0, virtual) } : undefined;
    this.vms.set(spec.instanceId, {
      spec, running: false, holdsMemory: false, workloadStartMs: this.lastMs, touchedMb: 0, balloonMb: 0, readySeconds: 0,
      disk: new Qcow2Chain(spec.instanceId, virtual, base, this.config.diskClusterBytes), io: new DiskIoThrottle(spec.diskIo),
      rng: seededRng(hash(spec.instanceId)), dio: { readOps: 0, writeOps: 0, readBytes: 0, writeBytes: 0, throttled: 0 },
      nics: new Map(spec.portIds.map((p) => [p, zeroNic()])), ticks: 0,
    });
  }

  /** True while the host is in DPM standby (powered off). */
  get standby(): boolean {
    return this.standbyValue;
  }

  /**
   * DPM standby (vSphere semantics): a host in standby is powered off and draws 0 W from `nowMs`
   * (the models are first advanced to `nowMs`, so the energy before it is integrated at the old power).
   * @throws FailedPreconditionError ("host_not_empty") when entering standby with VMs defined.
   */
  setStandby(standby: boolean, nowMs: number): HostModelSnapshot {
    if (standby && this.vms.size > 0) throw new FailedPreconditionError(`host ${this.profile.hostId} holds ${this.vms.size} VMs`, 'host_not_empty');
    this.tick(nowMs);
    this.standbyValue = standby;
    this.lastSnapshot = this.compute(this.lastMs, 0);
    return this.lastSnapshot;
  }

  /** Removes a VM (destroyed or migrated away). Unknown ids are ignored. */
  removeVm(instanceId: string): void {
    this.vms.delete(instanceId);
  }

  /**
   * Sets what a VM does from now: `running` (vCPUs run), `holdsMemory` (running or paused); a
   * `workloadStartMs` restarts its workload clock (a boot). Memory is released when not held.
   * @throws NotFoundError ("instance").
   */
  setPower(instanceId: string, running: boolean, holdsMemory: boolean, workloadStartMs?: number): void {
    const vm = this.get(instanceId);
    vm.running = running;
    vm.holdsMemory = holdsMemory;
    if (workloadStartMs !== undefined) vm.workloadStartMs = workloadStartMs;
    if (!holdsMemory) {
      vm.touchedMb = 0;
      vm.balloonMb = 0;
    }
  }

  /** The VM's QCOW2 chain (snapshot, clone, merge). @throws NotFoundError ("instance"). */
  disk(instanceId: string): Qcow2Chain {
    return this.get(instanceId).disk;
  }

  /** Plugs / unplugs a vNIC (counters start at 0). @throws NotFoundError ("instance"). */
  setVnic(instanceId: string, portId: string, plugged: boolean): void {
    const vm = this.get(instanceId);
    if (plugged && !vm.nics.has(portId)) vm.nics.set(portId, zeroNic());
    if (!plugged) vm.nics.delete(portId);
  }

  /**
   * Advances every model to `nowMs` (integrating counters over the time since the last tick) and
   * returns the new snapshot. A time earlier than the last tick is treated as no time passing.
   */
  tick(nowMs: number): HostModelSnapshot {
    const dt = Math.max(0, nowMs - this.lastMs) / 1000;
    this.lastMs = Math.max(this.lastMs, nowMs);
    this.energyJoules += this.lastSnapshot.powerWatts * dt;
    this.lastSnapshot = this.compute(this.lastMs, dt);
    return this.lastSnapshot;
  }

  private compute(nowMs: number, dt: number): HostModelSnapshot {
    const p = this.profile;
    const states = [...this.vms.values()];
    const demand = states.map((s) => (s.running ? s.spec.workload.cpuUtilizationRatio(Math.max(0, nowMs - s.workloadStartMs)) : 0));
    const cpu = allocateCpu(
      { logicalCpus: logicalCpus(p), capacityMhz: totalCpuMhz(p), coreMhz: p.cpuMhz, pools: this.config.cpuPools },
      states.map((s, i) => ({ id: s.spec.instanceId, vcpus: s.spec.vcpus, demandMhz: demand[i] * s.spec.vcpus * p.cpuMhz, ...s.spec.cpu })),
    );
    const held = states.map((_, i) => i).filter((i) => states[i].holdsMemory);
    for (const i of held) {
      const s = states[i];
      const active = s.running ? Math.max(this.config.minActiveRatio, demand[i]) * s.spec.ramMb : 0;
      s.touchedMb = Math.min(s.spec.ramMb, Math.max(s.touchedMb, active));
    }
    const util = (i: number) => cpu.vms[i].usageMhz / (states[i].spec.vcpus * p.cpuMhz);
    const mem = reclaimMemory(
      p.ramMb,
      held.map((i) => {
        const s = states[i];
        return {
          id: s.spec.instanceId, ramMb: s.spec.ramMb, touchedMb: s.touchedMb,
          activeMb: Math.min(s.touchedMb, s.running ? Math.max(this.config.minActiveRatio, util(i)) * s.spec.ramMb : 0),
          imageId: s.spec.imageId, balloonMb: s.balloonMb,
        };
      }),
      dt,
      this.config.memory,
    );
    const memById = new Map(mem.vms.map((m) => [m.id, m]));
    const vms = new Map<string, VmModelSnapshot>();
    states.forEach((s, i) => {
      const u = util(i);
      const m = memById.get(s.spec.instanceId);
      if (m) s.balloonMb = m.balloonedMb;
      s.readySeconds += (cpu.vms[i].demandMhz - cpu.vms[i].usageMhz) / p.cpuMhz * dt;
      this.advanceIo(s, u, dt);
      vms.set(s.spec.instanceId, {
        instanceId: s.spec.instanceId, running: s.running, vcpus: s.spec.vcpus, cpuDemandRatio: demand[i], cpuUtilizationRatio: u,
        cpu: cpu.vms[i], cpuReadySecondsTotal: s.readySeconds,
        memory: m ?? { id: s.spec.instanceId, grantedMb: 0, activeMb: 0, sharedMb: 0, balloonedMb: 0, compressedMb: 0, swappedMb: 0, consumedMb: 0 },
        dirtyRateMbPerSecond: s.running ? s.spec.workload.dirtyRateMbPerSecond(Math.max(0, nowMs - s.workloadStartMs)) : 0,
        disk: {
          virtualBytes: s.disk.virtualSizeBytes, allocatedBytes: s.disk.allocatedBytes, chainAllocatedBytes: s.disk.chainAllocatedBytes,
          layers: s.disk.layerCount, readOpsTotal: s.dio.readOps, writeOpsTotal: s.dio.writeOps, readBytesTotal: s.dio.readBytes,
          writeBytesTotal: s.dio.writeBytes, throttledRatio: s.dio.throttled,
        },
        vnics: [...s.nics].map(([portId, c]) => ({ portId, ...c })),
      });
    });
    const { vms: _c, ...cpuHost } = cpu;
    const { vms: _m, ...memHost } = mem;
    return { atMs: nowMs, dtSeconds: dt, cpu: cpuHost, memory: memHost, powerWatts: this.standbyValue ? 0 : powerWatts(p.powerModel, cpu.utilizationRatio), energyJoulesTotal: this.energyJoules, vms };
  }

  private advanceIo(s: VmState, util: number, dt: number): void {
    if (!s.running || dt <= 0) return;
    const io = this.config.io;
    const ops = io.diskIopsAtPeak * util * dt;
    const served = s.io.serve(ops, ops * io.ioSizeBytes, dt);
    const writes = served.ops * io.writeFraction;
    s.dio.readOps += served.ops - writes;
    s.dio.writeOps += writes;
    s.dio.readBytes += (served.ops - writes) * io.ioSizeBytes;
    s.dio.writeBytes += writes * io.ioSizeBytes;
    s.dio.throttled = 1 - served.servedRatio;
    const clusters = Math.min(this.config.maxClusterWritesPerTick, Math.ceil((writes * io.ioSizeBytes) / this.config.diskClusterBytes));
    const hot = Math.max(1, Math.floor(s.disk.clusters * this.config.diskHotRatio));
    s.ticks += 1;
    const tag = `t${s.ticks}`;
    for (let k = 0; k < clusters; k++) s.disk.write(Math.floor(s.rng() * hot), tag);
    if (s.nics.size === 0) return;
    const txBytes = (io.netTxMbpsAtPeak * 1e6 * util * dt) / 8 / s.nics.size;
    const rxBytes = (io.netRxMbpsAtPeak * 1e6 * util * dt) / 8 / s.nics.size;
    for (const c of s.nics.values()) {
      c.txBytes += txBytes;
      c.rxBytes += rxBytes;
      c.txPackets += txBytes / io.packetBytes;
      c.rxPackets += rxBytes / io.packetBytes;
    }
  }

  private get(instanceId: string): VmState {
    const vm = this.vms.get(instanceId);
    if (!vm) throw new NotFoundError('instance', instanceId);
    return vm;
  }
}

function zeroNic() {
  return { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
