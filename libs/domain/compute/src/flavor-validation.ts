import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { FlavorRecord } from './instance';

/** Fields of a flavor to create, as the API gives them. */
export type FlavorInput = Pick<FlavorRecord, 'name' | 'vcpus' | 'ramMb' | 'diskGb' | 'ephemeralGb' | 'swapMb' | 'rxtxFactor'>;

/** Nova's limits: integers fit its database's 32-bit INT; rxtx_factor its single-precision FLOAT (SQL_SP_FLOAT_MAX). */
const MAX_INT = 2147483647;
const MAX_RXTX_FACTOR = 3.40282e38;

/**
 * Nova's flavor checks: name 1..255 chars without leading or trailing blanks; vcpus and ram_mb
 * integers 1..2^31-1; disk_gb, ephemeral_gb and swap_mb integers 0..2^31-1 (disk 0 means "image
 * size", as Nova); rxtx_factor, when given, a number > 0.
 * @throws InvalidArgumentError naming the field (name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor)
 */
export function validateFlavorInput(f: FlavorInput): void {
  const name = f.name.trim();
  if (!name) throw new InvalidArgumentError('name', 'is required');
  if (f.name.length > 255) throw new InvalidArgumentError('name', 'must be at most 255 characters');
  if (name !== f.name) throw new InvalidArgumentError('name', 'must not begin or end with whitespace');
  const positive: [string, number][] = [
    ['vcpus', f.vcpus],
    ['ram_mb', f.ramMb],
  ];
  for (const [field, v] of positive) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_INT) throw new InvalidArgumentError(field, `must be an integer from 1 to ${MAX_INT}, got ${v}`);
  }
  const nonNegative: [string, number][] = [
    ['disk_gb', f.diskGb],
    ['ephemeral_gb', f.ephemeralGb],
    ['swap_mb', f.swapMb],
  ];
  for (const [field, v] of nonNegative) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_INT) throw new InvalidArgumentError(field, `must be an integer from 0 to ${MAX_INT}, got ${v}`);
  }
  const rxtx = f.rxtxFactor;
  if (rxtx !== undefined && !(Number.isFinite(rxtx) && rxtx > 0 && rxtx <= MAX_RXTX_FACTOR)) {
    throw new InvalidArgumentError('rxtx_factor', `must be a number > 0 and <= ${MAX_RXTX_FACTOR}, got ${rxtx}`);
  }
}
