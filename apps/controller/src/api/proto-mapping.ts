import { compute } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import { deriveServerStatus, type InstanceRecord } from '@minicloud/domain-compute';
import { flavorToProto, hostStateToProto, powerStateToProto, taskStateToProto, vmStateToProto } from '../proto-states';
import type { HostAllocations } from '../store/allocation-store';
import type { HostRecord } from '../store/host-store';
import type { AggregateRecord } from '../store/aggregate-store';
import type { ServerGroupRecord } from '../store/server-group-store';
import type { InstanceActionRecord } from '../store/instance-store';

/** A server as the API shows it; `hostId` only for admins (OS-EXT-SRV-ATTR:host). */
export function serverToProto(r: InstanceRecord, opts: { admin: boolean }): DeepPartial<compute.Server> {
  return {
    id: r.id,
    name: r.name,
    projectId: r.projectId,
    userId: r.userId,
    flavor: flavorToProto(r.flavor),
    imageId: r.image.id,
    vmState: vmStateToProto(r.vmState),
    taskState: taskStateToProto(r.taskState),
    powerState: powerStateToProto(r.powerState),
    hostId: opts.admin ? r.hostId : '',
    availabilityZone: r.availabilityZone,
    addresses: r.ports.filter((p) => p.attachingSinceMs === undefined).flatMap((p) =>
      p.ipAddresses.map((ip) => ({ networkId: p.networkId, networkName: p.networkName, portId: p.portId, ipAddress: ip, macAddress: p.macAddress, type: 'fixed' })),
    ),
    metadata: r.metadata,
    tags: r.tags,
    fault: r.fault,
    haEnabled: r.haEnabled,
    restartPriority: r.restartPriority,
    ftState: opts.admin ? r.ft?.state ?? 'not_protected' : '',
    ftSecondaryHostId: opts.admin ? r.ft?.secondaryHostId ?? '' : '',
    ftGeneration: opts.admin ? r.ft?.generation ?? 0 : 0,
    reservationId: r.reservationId,
    keyName: r.keyName,
    accessIpV4: r.accessIpV4 ?? '',
    accessIpV6: r.accessIpV6 ?? '',
    locked: !!r.locked,
    lockedReason: r.lockedReason ?? '',
    serverGroupId: r.serverGroupId ?? '',
    createdAt: new Date(r.createdAtMs),
    updatedAt: new Date(r.updatedAtMs),
    launchedAt: r.launchedAtMs ? new Date(r.launchedAtMs) : undefined,
    status: deriveServerStatus(r.vmState, r.taskState),
    volumesAttached: (r.volumesAttached ?? []).filter((v) => v.status === 'attached').map((v) => ({ volumeId: v.volumeId, deviceName: v.deviceName, attachmentId: v.attachmentId, deleteOnTermination: v.deleteOnTermination })),
  };
}

export function hostToProto(h: HostRecord, alloc: HostAllocations): DeepPartial<compute.Host> {
  return {
    id: h.hostId,
    hostname: h.profile.hostname,
    state: hostStateToProto(h.state),
    enabled: h.enabled,
    disabledReason: h.disabledReason,
    availabilityZone: h.profile.availabilityZone,
    epoch: h.epoch,
    agentEndpoint: h.agentEndpoint,
    tunnelIp: h.tunnelIp,
    vcpus: { total: h.vcpusTotal, reserved: 0, allocationRatio: h.cpuAllocationRatio, allocated: alloc.vcpus },
    ramMb: { total: h.ramMbTotal, reserved: h.ramMbReserved, allocationRatio: h.ramAllocationRatio, allocated: alloc.ramMb },
    diskGb: { total: h.diskGbTotal, reserved: 0, allocationRatio: h.diskAllocationRatio, allocated: alloc.diskGb },
    runningVms: h.usage?.runningVms ?? alloc.byInstance.size,
    cpuUtilizationRatio: h.usage?.cpuUtilizationRatio ?? 0,
    powerWatts: h.usage?.powerWatts ?? 0,
    cpuModel: h.profile.cpuModel,
    cpuMhz: h.profile.cpuMhz,
    hypervisorType: h.profile.hypervisorType,
    rackId: h.profile.rackId,
    lastHeartbeatAt: h.lastHeartbeatAtMs ? new Date(h.lastHeartbeatAtMs) : undefined,
    registeredAt: new Date(h.registeredAtMs),
    serviceId: h.serviceId ?? 0,
  };
}

export function actionToProto(instanceId: string, a: InstanceActionRecord): DeepPartial<compute.InstanceAction> {
  return {
    requestId: a.requestId,
    instanceId,
    action: a.action,
    userId: a.userId,
    projectId: a.projectId,
    startTime: new Date(a.startMs),
    finishTime: a.finishMs ? new Date(a.finishMs) : undefined,
    result: a.result,
    message: a.message,
  };
}

/** Aggregate record -> proto. */
export function aggregateToProto(a: AggregateRecord): DeepPartial<compute.Aggregate> {
  return {
    id: a.id,
    numericId: a.numericId ?? 0,
    name: a.name,
    availabilityZone: a.availabilityZone,
    hostIds: a.hostIds,
    metadata: a.metadata,
    createdAt: a.createdAtMs !== undefined ? new Date(a.createdAtMs) : undefined,
    updatedAt: a.updatedAtMs !== undefined ? new Date(a.updatedAtMs) : undefined,
  };
}

/** Server group record -> proto. */
export function serverGroupToProto(g: ServerGroupRecord): DeepPartial<compute.ServerGroup> {
  return { id: g.id, name: g.name, projectId: g.projectId, policy: g.policy, maxServerPerHost: g.maxServerPerHost, memberIds: g.memberIds };
}
