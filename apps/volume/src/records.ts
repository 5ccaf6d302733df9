import type { AttachStatus, ReplicaState, VolumeQos, VolumeStatus } from '@minicloud/domain-volume';

/** A volume as stored in `mc:volume:volume:<id>` (a hash). Sizes in GB, times in ms since the epoch. */
export interface VolumeRecord {
  id: string;
  name: string;
  projectId: string;
  status: VolumeStatus;
  sizeGb: number;
  volumeType: string;
  pool: string;
  availabilityZone: string;
  bootable: boolean;
  multiattach: boolean;
  sourceImageId: string;
  sourceSnapshotId: string;
  sourceVolumeId: string;
  metadata: Record<string, string>;
  createdAtMs: number;
  /** Restored from this backup (not part of the API's oneof source). */
  sourceBackupId: string;
  /** Copies kept (1 unless the type is replicated). */
  replicationCount: number;
  /** Every copy of the data, one per pool (storage node for replicated types); `pool` is the first ok one. */
  replicas: ReplicaState[];
  /** From the type's extra specs at create/retype time. */
  qos: VolumeQos;
  /** Why the volume went to error ('' otherwise). */
  fault: string;
}

/** An attachment (Cinder v3 attachment API), `mc:volume:attachment:<id>`. */
export interface AttachmentRecord {
  id: string;
  volumeId: string;
  projectId: string;
  instanceId: string;
  hostId: string;
  mountpoint: string;
  attachStatus: AttachStatus;
  attachedAtMs: number;
}

/** A snapshot, `mc:volume:snapshot:<id>`; its size counts in its volume's pool. */
export interface SnapshotRecord {
  id: string;
  volumeId: string;
  projectId: string;
  name: string;
  status: string;
  sizeGb: number;
  pool: string;
  createdAtMs: number;
  /** Pools (with their storage node) holding a copy of the snapshot's blocks. */
  copies: { pool: string; storageNode: string }[];
}

/** A volume type, JSON in the hash `mc:volume:types` keyed by name. */
export interface VolumeTypeRecord {
  id: string;
  name: string;
  extraSpecs: Record<string, string>;
  isPublic: boolean;
}

/** Field/value pairs for HSET. */
export function volumeToHash(v: VolumeRecord): string[] {
  return [
    'id', v.id, 'name', v.name, 'project_id', v.projectId, 'status', v.status, 'size_gb', String(v.sizeGb),
    'volume_type', v.volumeType, 'pool', v.pool, 'availability_zone', v.availabilityZone,
    'bootable', v.bootable ? '1' : '0', 'multiattach', v.multiattach ? '1' : '0',
    'source_image_id', v.sourceImageId, 'source_snapshot_id', v.sourceSnapshotId, 'source_volume_id', v.sourceVolumeId,
    'metadata', JSON.stringify(v.metadata), 'created_at_ms', String(v.createdAtMs),
    'source_backup_id', v.sourceBackupId, 'replication_count', String(v.replicationCount),
    'replicas', JSON.stringify(v.replicas), 'qos', JSON.stringify(v.qos), 'fault', v.fault,
  ];
}

export function volumeFromHash(h: Record<string, string>): VolumeRecord | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    name: h.name ?? '',
    projectId: h.project_id ?? '',
    status: (h.status ?? 'error') as VolumeStatus,
    sizeGb: Number(h.size_gb ?? 0),
    volumeType: h.volume_type ?? '',
    pool: h.pool ?? '',
    availabilityZone: h.availability_zone ?? '',
    bootable: h.bootable === '1',
    multiattach: h.multiattach === '1',
    sourceImageId: h.source_image_id ?? '',
    sourceSnapshotId: h.source_snapshot_id ?? '',
    sourceVolumeId: h.source_volume_id ?? '',
    metadata: h.metadata ? (JSON.parse(h.metadata) as Record<string, string>) : {},
    createdAtMs: Number(h.created_at_ms ?? 0),
    sourceBackupId: h.source_backup_id ?? '',
    replicationCount: Number(h.replication_count ?? 1),
    replicas: h.replicas ? (JSON.parse(h.replicas) as ReplicaState[]) : [],
    qos: h.qos ? (JSON.parse(h.qos) as VolumeQos) : NO_QOS,
    fault: h.fault ?? '',
  };
}

/** QoS with every limit 0 (unlimited). */
export const NO_QOS: VolumeQos = { readIopsSec: 0, writeIopsSec: 0, totalIopsSec: 0, readBytesSec: 0, writeBytesSec: 0, totalBytesSec: 0 };

/** The copy ref (storage node, owner key) of a volume's copy on `pool`. */
export function volumeCopy(volumeId: string, r: Pick<ReplicaState, 'pool' | 'storageNode'>): { node: string; owner: string } {
  return { node: r.storageNode, owner: `vol:${volumeId}:${r.pool}` };
}

/** The copy ref of a snapshot's copy on `pool`. */
export function snapshotCopy(snapshotId: string, r: Pick<ReplicaState, 'pool' | 'storageNode'>): { node: string; owner: string } {
  return { node: r.storageNode, owner: `snap:${snapshotId}:${r.pool}` };
}

/** A backup (Cinder's chunked backup driver): its blocks live in an image of the image service. */
export interface BackupRecord {
  id: string;
  volumeId: string;
  projectId: string;
  name: string;
  status: string;
  incremental: boolean;
  parentBackupId: string;
  imageId: string;
  sizeBytes: number;
  blockCount: number;
  volumeSizeGb: number;
  /** The volume's whole block map at backup time (index -> sha256), the base for the next incremental. */
  map: Record<string, string>;
  /** What this backup stores: changed blocks since the parent ('' = block discarded). */
  delta: Record<string, string>;
  createdAtMs: number;
  /** Creation order (a Redis counter): orders backups made within the same millisecond. */
  seq: number;
}

export function backupToHash(b: BackupRecord): string[] {
  return [
    'id', b.id, 'volume_id', b.volumeId, 'project_id', b.projectId, 'name', b.name, 'status', b.status,
    'incremental', b.incremental ? '1' : '0', 'parent_backup_id', b.parentBackupId, 'image_id', b.imageId,
    'size_bytes', String(b.sizeBytes), 'block_count', String(b.blockCount), 'volume_size_gb', String(b.volumeSizeGb),
    'map', JSON.stringify(b.map), 'delta', JSON.stringify(b.delta), 'created_at_ms', String(b.createdAtMs), 'seq', String(b.seq),
  ];
}

export function backupFromHash(h: Record<string, string>): BackupRecord | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    volumeId: h.volume_id ?? '',
    projectId: h.project_id ?? '',
    name: h.name ?? '',
    status: h.status ?? 'error',
    incremental: h.incremental === '1',
    parentBackupId: h.parent_backup_id ?? '',
    imageId: h.image_id ?? '',
    sizeBytes: Number(h.size_bytes ?? 0),
    blockCount: Number(h.block_count ?? 0),
    volumeSizeGb: Number(h.volume_size_gb ?? 0),
    map: h.map ? (JSON.parse(h.map) as Record<string, string>) : {},
    delta: h.delta ? (JSON.parse(h.delta) as Record<string, string>) : {},
    createdAtMs: Number(h.created_at_ms ?? 0),
    seq: Number(h.seq ?? 0),
  };
}

export function attachmentToHash(a: AttachmentRecord): string[] {
  return [
    'id', a.id, 'volume_id', a.volumeId, 'project_id', a.projectId, 'instance_id', a.instanceId, 'host_id', a.hostId,
    'mountpoint', a.mountpoint, 'attach_status', a.attachStatus, 'attached_at_ms', String(a.attachedAtMs),
  ];
}

export function attachmentFromHash(h: Record<string, string>): AttachmentRecord | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    volumeId: h.volume_id ?? '',
    projectId: h.project_id ?? '',
    instanceId: h.instance_id ?? '',
    hostId: h.host_id ?? '',
    mountpoint: h.mountpoint ?? '',
    attachStatus: (h.attach_status ?? 'reserved') as AttachStatus,
    attachedAtMs: Number(h.attached_at_ms ?? 0),
  };
}

/** Snapshot fields except size_gb (the create script takes the size from the volume). */
export function snapshotToHash(s: Omit<SnapshotRecord, 'sizeGb' | 'copies'>): string[] {
  // copies are written once the blocks are copied (HSET copies).
  return [
    'id', s.id, 'volume_id', s.volumeId, 'project_id', s.projectId, 'name', s.name, 'status', s.status,
    'pool', s.pool, 'created_at_ms', String(s.createdAtMs),
  ];
}

export function snapshotFromHash(h: Record<string, string>): SnapshotRecord | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    volumeId: h.volume_id ?? '',
    projectId: h.project_id ?? '',
    name: h.name ?? '',
    status: h.status ?? 'error',
    sizeGb: Number(h.size_gb ?? 0),
    pool: h.pool ?? '',
    createdAtMs: Number(h.created_at_ms ?? 0),
    copies: h.copies ? (JSON.parse(h.copies) as SnapshotRecord['copies']) : [],
  };
}
