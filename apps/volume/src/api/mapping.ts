import { volume } from '@minicloud/proto';
import { freeCapacityGb, isVolumeStatus, type PoolState, type VolumeStatus } from '@minicloud/domain-volume';
import { replicationStatusOf } from '@minicloud/domain-volume';
import type { AttachmentRecord, BackupRecord, QosSpecsRecord, SnapshotRecord, VolumeRecord, VolumeTypeRecord } from '../records';

/** 'in-use' -> VOLUME_STATUS_IN_USE. */
export function statusToProto(s: VolumeStatus): volume.VolumeStatus {
  const v = (volume.VolumeStatus as unknown as Record<string, volume.VolumeStatus>)[`VOLUME_STATUS_${s.toUpperCase().replace('-', '_')}`];
  return v ?? volume.VolumeStatus.VOLUME_STATUS_UNSPECIFIED;
}

/** VOLUME_STATUS_IN_USE -> 'in-use'; UNSPECIFIED (or a status this service never sets) -> undefined. */
export function statusFromProto(s: volume.VolumeStatus): VolumeStatus | undefined {
  const name = volume.VolumeStatus[s];
  if (!name || s === volume.VolumeStatus.VOLUME_STATUS_UNSPECIFIED) return undefined;
  const lower = name.replace('VOLUME_STATUS_', '').toLowerCase();
  const candidate = lower === 'in_use' ? 'in-use' : lower;
  return isVolumeStatus(candidate) ? candidate : undefined;
}

export function attachmentToProto(a: AttachmentRecord): volume.Attachment {
  return {
    id: a.id,
    volumeId: a.volumeId,
    instanceId: a.instanceId,
    hostId: a.hostId,
    mountpoint: a.mountpoint,
    attachStatus: a.attachStatus,
    attachedAt: a.attachedAtMs ? new Date(a.attachedAtMs) : undefined,
  };
}

/** A volume with its attachments and allocated bytes (blocks written x block size). */
export function volumeToProto(v: VolumeRecord, attachments: AttachmentRecord[] = [], allocatedBytes = 0): Partial<volume.Volume> {
  return {
    id: v.id,
    name: v.name,
    projectId: v.projectId,
    status: statusToProto(v.status),
    sizeGb: v.sizeGb,
    volumeType: v.volumeType,
    pool: v.pool,
    availabilityZone: v.availabilityZone,
    bootable: v.bootable,
    multiattach: v.multiattach,
    sourceImageId: v.sourceImageId,
    sourceSnapshotId: v.sourceSnapshotId,
    sourceVolumeId: v.sourceVolumeId,
    attachments: attachments.map(attachmentToProto),
    allocatedBytes,
    metadata: v.metadata,
    createdAt: new Date(v.createdAtMs),
    fault: v.fault ? { code: 'INTERNAL', message: v.fault, details: '' } : undefined,
    qos: { ...v.qos },
    replicationCount: v.replicationCount,
    replicationStatus: replicationStatusOf(v.replicas, v.replicationCount),
    replicas: v.replicas.map((r) => ({ pool: r.pool, storageNode: r.storageNode, state: r.state })),
    description: v.description,
    userId: v.userId,
    updatedAt: v.updatedAtMs ? new Date(v.updatedAtMs) : undefined,
    readOnly: v.readOnly ?? undefined,
  };
}

export function snapshotToProto(s: SnapshotRecord): volume.Snapshot {
  return {
    id: s.id,
    volumeId: s.volumeId,
    projectId: s.projectId,
    name: s.name,
    status: s.status,
    sizeGb: s.sizeGb,
    createdAt: new Date(s.createdAtMs),
    description: s.description,
    metadata: s.metadata,
    updatedAt: s.updatedAtMs ? new Date(s.updatedAtMs) : undefined,
  };
}

/** A type as the caller may see it: its QoS specs id only for an admin (Cinder's volume_type qos policy). */
export function volumeTypeToProto(t: VolumeTypeRecord, admin = false): volume.VolumeType {
  return { id: t.id, name: t.name, extraSpecs: t.extraSpecs, isPublic: t.isPublic, description: t.description ?? '', ...(admin ? { qosSpecsId: t.qosSpecsId ?? '' } : {}) };
}

export function qosSpecsToProto(q: QosSpecsRecord): volume.QosSpecs {
  return { id: q.id, name: q.name, consumer: q.consumer, specs: q.specs };
}

export function poolToProto(p: PoolState): volume.Pool {
  return {
    name: p.name,
    backend: p.backend,
    storageNode: p.storageNode,
    totalCapacityGb: p.totalCapacityGb,
    freeCapacityGb: freeCapacityGb(p),
    provisionedCapacityGb: p.provisionedCapacityGb,
    maxOverSubscriptionRatio: p.maxOverSubscriptionRatio,
    reservedPercentage: p.reservedPercentage,
    thinProvisioningSupport: p.thinProvisioningSupport,
    volumeTypes: [...p.volumeTypes],
    up: p.up,
  };
}

/** A backup record as VolumeService answers it (size in bytes, times as timestamps). */
export function backupToProto(b: BackupRecord): volume.Backup {
  return {
    id: b.id,
    volumeId: b.volumeId,
    projectId: b.projectId,
    name: b.name,
    status: b.status,
    incremental: b.incremental,
    parentBackupId: b.parentBackupId,
    sizeBytes: b.sizeBytes,
    createdAt: new Date(b.createdAtMs),
    imageId: b.imageId,
    volumeSizeGb: b.volumeSizeGb,
    blockCount: b.blockCount,
  };
}
