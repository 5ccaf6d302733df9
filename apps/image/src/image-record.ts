import type { ImageStatus } from '@minicloud/domain-image';

/** Glance visibility values. */
export const IMAGE_VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export type ImageVisibility = (typeof IMAGE_VISIBILITIES)[number];

/** Glance image member statuses. */
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/**
 * One image as stored (Glance's image record). Sizes in bytes, times in ms since the epoch.
 * `diskFormat` is the declared format until the upload succeeds, then the detected one ('' = detect).
 * `osHashValue` (sha256 hex) names the image's blob once it was activated (`hasBlob`).
 * `rev` increments on every write (compare-and-set of read-modify-write updates).
 */
export interface ImageRecord {
  id: string;
  name: string;
  status: ImageStatus;
  diskFormat: string;
  containerFormat: string;
  sizeBytes: number;
  virtualSizeBytes: number;
  checksumMd5: string;
  osHashAlgo: string;
  osHashValue: string;
  visibility: ImageVisibility;
  protected: boolean;
  ownerProjectId: string;
  minRamMb: number;
  minDiskGb: number;
  properties: Record<string, string>;
  /** Glance's tags, each once, in the order first added. */
  tags: string[];
  createdAtMs: number;
  updatedAtMs: number;
  sourceInstanceId: string;
  hasBlob: boolean;
  rev: number;
}

/** Record fields as Redis hash fields (snake_case strings); `rev` is managed by the scripts. */
export function toHashFields(r: Partial<Omit<ImageRecord, 'rev'>>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  put('id', r.id);
  put('name', r.name);
  put('status', r.status);
  put('disk_format', r.diskFormat);
  put('container_format', r.containerFormat);
  put('size_bytes', r.sizeBytes);
  put('virtual_size_bytes', r.virtualSizeBytes);
  put('checksum_md5', r.checksumMd5);
  put('os_hash_algo', r.osHashAlgo);
  put('os_hash_value', r.osHashValue);
  put('visibility', r.visibility);
  put('protected', r.protected);
  put('owner_project_id', r.ownerProjectId);
  put('min_ram_mb', r.minRamMb);
  put('min_disk_gb', r.minDiskGb);
  put('properties', r.properties);
  put('tags', r.tags);
  put('created_at_ms', r.createdAtMs);
  put('updated_at_ms', r.updatedAtMs);
  put('source_instance_id', r.sourceInstanceId);
  put('has_blob', r.hasBlob);
  return out;
}

/** Parses a Redis hash written by {@link toHashFields}; undefined for an empty (missing) hash. */
export function fromHashFields(h: Record<string, string>): ImageRecord | undefined {
  if (!h.id) return undefined;
  const n = (k: string) => Number(h[k] ?? 0);
  return {
    id: h.id,
    name: h.name ?? '',
    status: h.status as ImageStatus,
    diskFormat: h.disk_format ?? '',
    containerFormat: h.container_format ?? '',
    sizeBytes: n('size_bytes'),
    virtualSizeBytes: n('virtual_size_bytes'),
    checksumMd5: h.checksum_md5 ?? '',
    osHashAlgo: h.os_hash_algo ?? '',
    osHashValue: h.os_hash_value ?? '',
    visibility: h.visibility as ImageVisibility,
    protected: h.protected === '1',
    ownerProjectId: h.owner_project_id ?? '',
    minRamMb: n('min_ram_mb'),
    minDiskGb: n('min_disk_gb'),
    properties: h.properties ? (JSON.parse(h.properties) as Record<string, string>) : {},
    tags: h.tags ? (JSON.parse(h.tags) as string[]) : [],
    createdAtMs: n('created_at_ms'),
    updatedAtMs: n('updated_at_ms'),
    sourceInstanceId: h.source_instance_id ?? '',
    hasBlob: h.has_blob === '1',
    rev: n('rev'),
  };
}
