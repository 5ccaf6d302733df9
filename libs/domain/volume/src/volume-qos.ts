import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { QosConsumer, VolumeTypeSpec } from './volume-type';

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

/** True when `consumer`'s limits are enforced by the hypervisor (Cinder hands front-end and both specs to Nova). */
export function isFrontEnd(consumer: QosConsumer): boolean {
  return consumer === 'front-end' || consumer === 'both';
}

/**
 * The front-end QoS a volume of `type` carries (what the hypervisor enforces): each key from the
 * type's associated QoS specs when their consumer is front-end or both, else from extra spec
 * `qos:<key>` or `<key>` (non-negative integer; absent = 0, unlimited). A back-end specs is the
 * storage backend's to enforce and does not limit the volume at the hypervisor.
 * @throws InvalidArgumentError('extra_specs.<key>' | 'qos_specs.<key>') when a value is not a non-negative integer
 */
export function qosOf(type: VolumeTypeSpec): VolumeQos {
  const out: Record<string, number> = {};
  const front = type.qosSpecs && isFrontEnd(type.qosSpecs.consumer) ? type.qosSpecs.specs : {};
  for (const [field, key] of Object.entries(QOS_KEYS)) {
    const fromSpecs = front[key];
    if (fromSpecs !== undefined && fromSpecs !== '') {
      out[field] = nonNegativeInt(fromSpecs, `qos_specs.${key}`);
      continue;
    }
    const raw = type.extraSpecs[`qos:${key}`] ?? type.extraSpecs[key];
    if (raw === undefined || raw === '') {
      out[field] = 0;
      continue;
    }
    out[field] = nonNegativeInt(raw, `extra_specs.${key}`);
  }
  return out as unknown as VolumeQos;
}

function nonNegativeInt(raw: string, field: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(field, 'must be a non-negative integer');
  return n;
}

/**
 * Validates the keys of a QoS specs that this cloud enforces (read/write/total iops and bytes per
 * second: non-negative integers); other keys are kept as given, for a backend to interpret, as Cinder does.
 * @throws InvalidArgumentError('qos_specs.<key>') for a bad value of an enforced key
 */
export function validateQosSpecs(specs: Readonly<Record<string, string>>): void {
  for (const key of Object.values(QOS_KEYS)) {
    const raw = specs[key];
    if (raw !== undefined && raw !== '') nonNegativeInt(raw, `qos_specs.${key}`);
  }
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
