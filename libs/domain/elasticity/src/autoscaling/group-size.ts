import { InvalidArgumentError } from '@minicloud/domain-errors';

/** A scaling group's bounds and wish (AWS Auto Scaling MinSize/MaxSize/DesiredCapacity). */
export interface GroupSize {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
}

/** The largest group the API accepts (a simulated cloud on one machine). */
export const MAX_GROUP_SIZE = 100;

/**
 * Checks 0 <= min <= desired <= max <= MAX_GROUP_SIZE, all integers.
 * @throws InvalidArgumentError naming `min_size`, `max_size` or `desired_capacity`.
 */
export function validateGroupSize(s: GroupSize): void {
  for (const [field, v] of [['min_size', s.minSize], ['max_size', s.maxSize], ['desired_capacity', s.desiredCapacity]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_GROUP_SIZE) throw new InvalidArgumentError(field, `must be an integer in 0..${MAX_GROUP_SIZE}, got ${v}`);
  }
  if (s.minSize > s.maxSize) throw new InvalidArgumentError('min_size', `must be <= max_size (${s.maxSize}), got ${s.minSize}`);
  if (s.desiredCapacity < s.minSize || s.desiredCapacity > s.maxSize) {
    throw new InvalidArgumentError('desired_capacity', `must be within min_size..max_size (${s.minSize}..${s.maxSize}), got ${s.desiredCapacity}`);
  }
}

/** `desired` clamped to [min, max] and rounded to an integer (AWS clamps a policy's result the same way). */
export function clampCapacity(desired: number, minSize: number, maxSize: number): number {
  return Math.min(maxSize, Math.max(minSize, Math.round(desired)));
}
