import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Block size of the simulated block store in bytes (64 KiB, a common thin-pool chunk size). */
export const BLOCK_SIZE_BYTES = 65536;

/** A sparse block map: block index -> content id (sha256 hex of the block's bytes). Absent = zeros. */
export type BlockMap = Readonly<Record<string, string>>;

/** The block indices a byte range touches; `[]` for an empty range. */
export function blocksTouched(offsetBytes: number, lengthBytes: number, blockSizeBytes = BLOCK_SIZE_BYTES): number[] {
  if (lengthBytes <= 0) return [];
  const first = Math.floor(offsetBytes / blockSizeBytes);
  const last = Math.floor((offsetBytes + lengthBytes - 1) / blockSizeBytes);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/**
 * Checks an I/O range against a volume's size.
 * @throws InvalidArgumentError('offset_bytes') negative or not an integer, ('length_bytes') past the end of the volume
 */
export function checkIoRange(offsetBytes: number, lengthBytes: number, sizeGb: number): void {
  if (!Number.isInteger(offsetBytes) || offsetBytes < 0) throw new InvalidArgumentError('offset_bytes', 'must be a non-negative integer');
  if (!Number.isInteger(lengthBytes) || lengthBytes < 0) throw new InvalidArgumentError('length_bytes', 'must be a non-negative integer');
  if (offsetBytes + lengthBytes > sizeGb * 1024 ** 3) throw new InvalidArgumentError('length_bytes', `range ends past the volume's ${sizeGb} GB`);
}

/**
 * What an incremental backup stores: the blocks of `current` that differ from `parent` (new or
 * rewritten); blocks present in the parent and absent now map to '' (discarded: zeros).
 * Source: Cinder's chunked backup driver stores only changed chunks relative to the parent's sha256 list.
 */
export function changedBlocks(parent: BlockMap, current: BlockMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, h] of Object.entries(current)) if (parent[i] !== h) out[i] = h;
  for (const i of Object.keys(parent)) if (!(i in current)) out[i] = '';
  return out;
}

/** Applies backup deltas oldest first (full, then incrementals); '' removes a block. */
export function applyDeltas(deltas: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of deltas) for (const [i, h] of Object.entries(d)) {
    if (h === '') delete out[i];
    else out[i] = h;
  }
  return out;
}
