import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { FlavorRecord } from './instance';

/** Fields of a flavor to create, as the API gives them. */
export type FlavorInput = Pick<FlavorRecord, 'name' | 'vcpus' | 'ramMb' | 'diskGb' | 'ephemeralGb' | 'swapMb'>;

/**
 * Nova's flavor checks: name 1..255 chars; vcpus and ram_mb integers >= 1; disk_gb, ephemeral_gb and
 * swap_mb integers >= 0 (disk 0 means "image size", as Nova).
 * @throws InvalidArgumentError naming the field (name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb)
 */
export function validateFlavorInput(f: FlavorInput): void {
  const name = f.name.trim();
  if (!name) throw new InvalidArgumentError('name', 'is required');
  if (name.length > 255) throw new InvalidArgumentError('name', 'must be at most 255 characters');
  const positive: [string, number][] = [
    ['vcpus', f.vcpus],
    ['ram_mb', f.ramMb],
  ];
  for (const [field, v] of positive) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(field, `must be an integer >= 1, got ${v}`);
  }
  const nonNegative: [string, number][] = [
    ['disk_gb', f.diskGb],
    ['ephemeral_gb', f.ephemeralGb],
    ['swap_mb', f.swapMb],
  ];
  for (const [field, v] of nonNegative) {
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(field, `must be an integer >= 0, got ${v}`);
  }
}
