import type { AttachStatus, VolumeStatus } from '@minicloud/domain-volume';

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
export function snapshotToHash(s: Omit<SnapshotRecord, 'sizeGb'>): string[] {
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
  };
}
