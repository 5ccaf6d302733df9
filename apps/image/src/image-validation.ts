import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Longest image name (Glance: 255). */
export const MAX_NAME_LENGTH = 255;
/** Most tags an image keeps, and the longest tag (Glance's image_tag_quota default 128; tags are 255 characters). */
export const MAX_TAGS = 128;
export const MAX_TAG_LENGTH = 255;

/** @throws InvalidArgumentError('name') over {@link MAX_NAME_LENGTH} characters */
export function checkName(name: string): void {
  if (name.length > MAX_NAME_LENGTH) throw new InvalidArgumentError('name', `is longer than ${MAX_NAME_LENGTH} characters`);
}

/** @throws InvalidArgumentError('min_ram_mb' | 'min_disk_gb') when negative */
export function checkMinimums(x: { minRamMb: number; minDiskGb: number }): void {
  if (x.minRamMb < 0) throw new InvalidArgumentError('min_ram_mb', 'must not be negative');
  if (x.minDiskGb < 0) throw new InvalidArgumentError('min_disk_gb', 'must not be negative');
}

/** @throws InvalidArgumentError('properties') for an empty or over-long key or an over-long value */
export function checkProperties(props: Record<string, string>): void {
  for (const [k, v] of Object.entries(props)) {
    if (!k || k.length > 255) throw new InvalidArgumentError('properties', `key "${k}" must be 1..255 characters`);
    if (v.length > 65535) throw new InvalidArgumentError('properties', `value of "${k}" is longer than 65535 characters`);
  }
}

/** @throws InvalidArgumentError(field) for an empty tag or one over {@link MAX_TAG_LENGTH} characters */
export function checkTags(tags: readonly string[], field: string): void {
  for (const t of tags) if (!t || t.length > MAX_TAG_LENGTH) throw new InvalidArgumentError(field, `tag "${t.slice(0, 40)}" must be 1..${MAX_TAG_LENGTH} characters`);
}

/**
 * `current` without `remove`, then with `add` (each tag once, in the order first added).
 * @throws InvalidArgumentError(field) when more than {@link MAX_TAGS} would remain
 */
export function nextTags(current: readonly string[], add: readonly string[], remove: readonly string[], field = 'add_tags'): string[] {
  const out = [...new Set([...current.filter((t) => !remove.includes(t)), ...add])];
  if (out.length > MAX_TAGS) throw new InvalidArgumentError(field, `an image keeps at most ${MAX_TAGS} tags (would have ${out.length})`);
  return out;
}
