import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { VolumeTypeSpec } from './volume-type';

/**
 * Cinder front-end QoS specs of a volume (what libvirt's <iotune> enforces): IOPS and bytes per second,
 * 0 = unlimited. Source: Cinder QoS specs keys (read_iops_sec, write_iops_sec, total_iops_sec,
 * read_bytes_sec, write_bytes_sec, total_bytes_sec).
 */
export interface VolumeQos {
  readonly readIopsSec: number;
  readonly writeIopsSec: number;
  readonly totalIopsSec: number;
  readonly readBytesSec: number;
  readonly writeBytesSec: number;
  readonly totalBytesSec: number;
}

const QOS_KEYS = {
  readIopsSec: 'read_iops_sec',
  writeIopsSec: 'write_iops_sec',
  totalIopsSec: 'total_iops_sec',
  readBytesSec: 'read_bytes_sec',
  writeBytesSec: 'write_bytes_sec',
  totalBytesSec: 'total_bytes_sec',
} as const;

/**
 * The QoS of a volume type: each key read from extra spec `qos:<key>` or `<key>` (non-negative
 * integer; absent = 0, unlimited).
 * @throws InvalidArgumentError('extra_specs.<key>') when a value is not a non-negative integer
 */
export function qosOf(type: VolumeTypeSpec): VolumeQos {
  const out: Record<string, number> = {};
  for (const [field, key] of Object.entries(QOS_KEYS)) {
    const raw = type.extraSpecs[`qos:${key}`] ?? type.extraSpecs[key];
    if (raw === undefined || raw === '') {
      out[field] = 0;
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`extra_specs.${key}`, 'must be a non-negative integer');
    out[field] = n;
  }
  return out as unknown as VolumeQos;
}

/**
 * Copies a type keeps: its `replication_count` extra spec (1..5), 1 when absent.
 * @throws InvalidArgumentError('extra_specs.replication_count') outside 1..5
 */
export function replicationCountOf(type: VolumeTypeSpec): number {
  const raw = type.extraSpecs.replication_count;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new InvalidArgumentError('extra_specs.replication_count', 'must be an integer 1..5');
  return n;
}

/** Validates a new type's extra specs (QoS values, replication_count); returns them unchanged. */
export function validateExtraSpecs(type: VolumeTypeSpec): VolumeTypeSpec {
  qosOf(type);
  replicationCountOf(type);
  return type;
}
