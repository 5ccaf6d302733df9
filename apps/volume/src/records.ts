import type { AttachStatus, QosConsumer, ReplicaState, VolumeQos, VolumeStatus } from '@minicloud/domain-volume';

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
  /** Cinder's description ('' when none). */
  description: string;
  /** The user who created it ('' when not known). */
  userId: string;
  /** Last change made through UpdateVolume (0: never). */
  updatedAtMs: number;
  /** Cinder's readonly flag; null until first set. */
  readOnly: boolean | null;
  /** Its volume and its size are counted in the project's quota usage (released when it is deleted). */
  quotaAccounted: boolean;
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
  description: string;
  metadata: Record<string, string>;
  /** Last change made through UpdateSnapshot (0: never). */
  updatedAtMs: number;
}

/** A volume type, JSON in the hash `mc:volume:types` keyed by name. */
export interface VolumeTypeRecord {
  id: string;
  name: string;
  extraSpecs: Record<string, string>;
  isPublic: boolean;
  /** Cinder's description (absent in types stored before descriptions were kept: none). */
  description?: string;
  /** The associated QoS specs' id (absent or '': none). */
  qosSpecsId?: string;
}

/** A QoS specs, JSON in the hash `mc:volume:qos_specs` keyed by id. */
export interface QosSpecsRecord {
  id: string;
  name: string;
  consumer: QosConsumer;
  specs: Record<string, string>;
  createdAtMs: number;
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

/**
 * How one record field is stored in a Redis hash field (its name in snake_case): `str` as is, `num`
 * as a decimal string, `flag` as '1'/'0', `json` as JSON; `missing` is what an absent field reads as.
 */
type Field<T> = { kind: 'str' | 'num' | 'flag' | 'json'; missing: T };
const str = <T extends string = string>(missing = '' as T): Field<T> => ({ kind: 'str', missing });
const num = (missing = 0): Field<number> => ({ kind: 'num', missing });
const flag: Field<boolean> = { kind: 'flag', missing: false };
const json = <T>(missing: T): Field<T> => ({ kind: 'json', missing });

/** A record type's hash layout: `toHash` gives field/value pairs for HSET, `fromHash` undefined for a hash without `id`. */
export interface HashCodec<R> {
  toHash(r: Partial<R>): string[];
  fromHash(h: Record<string, string>): R | undefined;
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function hashCodec<R>(fields: { [K in keyof R]: Field<R[K]> }): HashCodec<R> {
  const entries = Object.entries(fields) as [keyof R & string, Field<unknown>][];
  return {
    toHash: (r) =>
      entries.flatMap(([k, f]) => {
        const v = r[k];
        if (v === undefined) return [];
        return [snake(k), f.kind === 'json' ? JSON.stringify(v) : f.kind === 'flag' ? (v ? '1' : '0') : String(v)];
      }),
    fromHash: (h) => {
      if (!h.id) return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, f] of entries) {
        const raw = h[snake(k)];
        if (raw === undefined || (f.kind === 'json' && raw === '')) out[k] = f.kind === 'json' ? structuredClone(f.missing) : f.missing;
        else out[k] = f.kind === 'num' ? Number(raw) : f.kind === 'flag' ? raw === '1' : f.kind === 'json' ? JSON.parse(raw) : raw;
      }
      return out as R;
    },
  };
}

/** `mc:volume:volume:<id>`. */
export const volumeHash = hashCodec<VolumeRecord>({
  id: str(), name: str(), projectId: str(), status: str<VolumeStatus>('error'), sizeGb: num(), volumeType: str(), pool: str(),
  availabilityZone: str(), bootable: flag, multiattach: flag, sourceImageId: str(), sourceSnapshotId: str(), sourceVolumeId: str(),
  metadata: json({}), createdAtMs: num(), sourceBackupId: str(), replicationCount: num(1), replicas: json<ReplicaState[]>([]),
  qos: json(NO_QOS), fault: str(), description: str(), userId: str(), updatedAtMs: num(), readOnly: json<boolean | null>(null),
  quotaAccounted: flag,
});

/** `mc:volume:attachment:<id>`. */
export const attachmentHash = hashCodec<AttachmentRecord>({
  id: str(), volumeId: str(), projectId: str(), instanceId: str(), hostId: str(), mountpoint: str(),
  attachStatus: str<AttachStatus>('reserved'), attachedAtMs: num(),
});

/**
 * `mc:volume:snapshot:<id>`. The create script takes size_gb from the volume, and `copies` are
 * written once the blocks are copied (HSET copies): callers leave both out of `toHash`.
 */
export const snapshotHash = hashCodec<SnapshotRecord>({
  id: str(), volumeId: str(), projectId: str(), name: str(), status: str('error'), sizeGb: num(), pool: str(), createdAtMs: num(),
  copies: json<SnapshotRecord['copies']>([]), description: str(), metadata: json({}), updatedAtMs: num(),
});

/** `mc:volume:backup:<id>`. */
export const backupHash = hashCodec<BackupRecord>({
  id: str(), volumeId: str(), projectId: str(), name: str(), status: str('error'), incremental: flag, parentBackupId: str(),
  imageId: str(), sizeBytes: num(), blockCount: num(), volumeSizeGb: num(), map: json({}), delta: json({}), createdAtMs: num(), seq: num(),
});
