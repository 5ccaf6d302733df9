import type { MemoryState } from '@minicloud/domain-hypervisor';
import type { HostModelSnapshot, PowerState, VmRecord } from '@minicloud/domain-hypervisor';
import { powerStateOf } from '@minicloud/domain-hypervisor';
import type { VmSpec } from './vm-spec';

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
  /** ESXi memory state of the last model tick (low: no new VM is taken). */
  readonly memoryState: MemoryState;
}

/** One VM's figures in a model tick. */
type VmModelFigures = ReturnType<HostModelSnapshot['vms']['get']>;

/** A VM's runtime from its record, its spec and its figures in the latest model tick (zeros before it joined the model). */
export function vmRuntime(e: { vm: VmRecord; spec: VmSpec; launchedAtMs?: number }, m: VmModelFigures, host: { hostId: string; epoch: number }): VmRuntime {
  return {
    instanceId: e.vm.instanceId,
    hostId: host.hostId,
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
    portIds: e.vm.interfaces.map((i) => i.portId),
    volumeIds: e.vm.volumeIds.length ? e.vm.volumeIds : e.spec.volumeIds,
    launchedAtMs: e.launchedAtMs,
    epoch: host.epoch,
  };
}

/** The runtime of a VM the host does not have (a destroy of an unknown VM answers with it). */
export function goneRuntime(instanceId: string, host: { hostId: string; epoch: number }): VmRuntime {
  return {
    instanceId, hostId: host.hostId, powerState: 'nostate', building: false, vcpus: 0, ramMb: 0, diskGb: 0, cpuUtilizationRatio: 0,
    cpuUsageMhz: 0, cpuReadyRatio: 0, memoryActiveMb: 0, diskAllocatedBytes: 0, portIds: [], volumeIds: [], epoch: host.epoch,
  };
}
