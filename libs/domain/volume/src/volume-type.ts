import type { PoolState } from './pool';

/** The side that enforces a QoS specs (Cinder's `consumer`): the hypervisor, the storage backend, or both. */
export type QosConsumer = 'front-end' | 'back-end' | 'both';

/** Cinder's QoS consumers; a specs made without one is `back-end` (Cinder's default). */
export const QOS_CONSUMERS: readonly QosConsumer[] = ['front-end', 'back-end', 'both'];

/** A QoS specs associated with a volume type: who enforces it and its key/value limits (Cinder's qos-specs). */
export interface TypeQosSpecs {
  readonly consumer: QosConsumer;
  readonly specs: Readonly<Record<string, string>>;
}

/**
 * A volume type (Cinder's): a name, extra specs (volume_backend_name, multiattach "<is> True", qos)
 * and, when one is associated, its QoS specs.
 */
export interface VolumeTypeSpec {
  readonly name: string;
  readonly extraSpecs: Readonly<Record<string, string>>;
  readonly qosSpecs?: TypeQosSpecs;
}

/** True when the type's `multiattach` extra spec is `<is> True` (Cinder's syntax; "True" also accepted). */
export function isMultiattachType(type: VolumeTypeSpec): boolean {
  const v = (type.extraSpecs.multiattach ?? '').trim().toLowerCase();
  return v === '<is> true' || v === 'true';
}

/**
 * Whether `pool` serves volumes of `type`: the pool lists the type by name, or the type's
 * `volume_backend_name` equals the pool's backend; a type with neither (no backend name and listed by
 * no pool, `listedAnywhere` false) may go anywhere, as in Cinder.
 */
export function poolServesType(pool: Pick<PoolState, 'volumeTypes' | 'backend'>, type: VolumeTypeSpec, listedAnywhere: boolean): boolean {
  if (pool.volumeTypes.includes(type.name)) return true;
  const backendName = type.extraSpecs.volume_backend_name;
  if (backendName !== undefined) return backendName === pool.backend;
  return !listedAnywhere;
}
