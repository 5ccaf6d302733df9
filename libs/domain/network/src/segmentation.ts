import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import type { Rng } from '@minicloud/domain-clock';

/** Smallest VXLAN Network Identifier minicloud hands out (0 is reserved by convention). */
export const VNI_MIN = 1;
/** Largest VNI: the field is 24 bits wide (RFC 7348 section 5), so 2^24 - 1 = 16777215. */
export const VNI_MAX = 2 ** 24 - 1;

/** An inclusive range of VNIs a network service may allocate (Neutron ml2_type_vxlan `vni_ranges`). */
export interface VniRange {
  readonly min: number;
  readonly max: number;
}

/** True when `vni` is an integer in 1..2^24-1. */
export function isValidVni(vni: number): boolean {
  return Number.isInteger(vni) && vni >= VNI_MIN && vni <= VNI_MAX;
}

/**
 * Checks a VNI given by a client (e.g. an admin's `segmentation_id`).
 * @throws InvalidArgumentError(field) when not an integer in 1..2^24-1
 */
export function assertValidVni(vni: number, field = 'segmentation_id'): void {
  if (!isValidVni(vni)) {
    throw new InvalidArgumentError(field, `VNI ${vni} is outside ${VNI_MIN}..${VNI_MAX} (RFC 7348: 24-bit field)`);
  }
}

/**
 * Parses a configured range "min:max" (Neutron syntax, e.g. "1:1000"), both ends inclusive.
 * @param field the configuration key named in errors, default "vni_ranges"
 * @throws InvalidArgumentError(field) when not two decimal integers separated by ":", an end is
 *   outside 1..2^24-1, or min > max
 */
export function parseVniRange(text: string, field = 'vni_ranges'): VniRange {
  const match = /^\s*([0-9]+)\s*:\s*([0-9]+)\s*$/.exec(text);
  if (!match) {
    throw new InvalidArgumentError(field, `"${text}" is not in "min:max" form (e.g. "1:1000")`);
  }
  const min = Number(match[1]);
  const max = Number(match[2]);
  assertValidVni(min, field);
  assertValidVni(max, field);
  if (min > max) {
    throw new InvalidArgumentError(field, `min ${min} is greater than max ${max}`);
  }
  return { min, max };
}

/** Number of VNIs in a range (inclusive). */
export function vniRangeSize(range: VniRange): number {
  return range.max - range.min + 1;
}

/**
 * Picks a free VNI of the range: starts at a random VNI and walks up (wrapping) to the first one
 * `isTaken` rejects not. Random start spreads concurrent allocators; the caller claims the VNI
 * atomically (e.g. Redis SET NX) and calls again on conflict.
 * @param isTaken true when a VNI is already used by a network
 * @param rng injected random source in [0, 1)
 * @throws ResourceExhaustedError(reason 'no_free_segmentation_id') when every VNI of the range is taken
 */
export function pickVni(range: VniRange, isTaken: (vni: number) => boolean, rng: Rng): number {
  const size = vniRangeSize(range);
  const offset = Math.floor(rng() * size);
  for (let k = 0; k < size; k++) {
    const vni = range.min + ((offset + k) % size);
    if (!isTaken(vni)) return vni;
  }
  throw new ResourceExhaustedError(
    `no free VNI in range ${range.min}:${range.max}`,
    'no_free_segmentation_id',
  );
}
