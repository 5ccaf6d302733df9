import type { PoolState } from './pool';

/** A volume type (Cinder's): a name and extra specs (volume_backend_name, multiattach "<is> True", qos). */
export interface VolumeTypeSpec {
  readonly name: string;
  readonly extraSpecs: Readonly<Record<string, string>>;
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
