import { bytesAt, text, u16, u32 } from './bytes';
import type { IsoDetails } from './image-inspection';

/** ISO 9660 system area is 16 sectors of 2048 bytes; volume descriptors follow (ECMA-119 6.2, 8). */
export const ISO_DESCRIPTORS_OFFSET = 0x8000;
const DESCRIPTOR_BYTES = 2048;
const PRIMARY = 1;
const TERMINATOR = 255;

/**
 * Finds the ISO 9660 primary volume descriptor (type 1, "CD001", version 1), scanning the volume
 * descriptor set from 0x8000 (a boot record may come first) within `head`. Virtual size = volume space
 * size (both-endian u32 at descriptor +0x50) * logical block size (both-endian u16 at +0x80); the
 * little- and big-endian copies must agree, which keeps random data from passing as an ISO.
 */
export function inspectIso(head: Uint8Array): { virtualSizeBytes: number; details: IsoDetails } | undefined {
  for (let off = ISO_DESCRIPTORS_OFFSET; off + DESCRIPTOR_BYTES <= head.length; off += DESCRIPTOR_BYTES) {
    if (!bytesAt(head, off + 1, 'CD001') || head[off + 6] !== 1) return undefined;
    if (head[off] === TERMINATOR) return undefined;
    if (head[off] !== PRIMARY) continue;
    const blocks = u32(head, off + 0x50, true);
    const blockSize = u16(head, off + 0x80, true);
    if (blocks === undefined || blocks !== u32(head, off + 0x54, false)) return undefined;
    if (blockSize === undefined || blockSize !== u16(head, off + 0x82, false) || blockSize === 0) return undefined;
    return {
      virtualSizeBytes: blocks * blockSize,
      details: { volumeSpaceBlocks: blocks, logicalBlockSizeBytes: blockSize, volumeId: text(head, off + 40, 32, 'latin1') },
    };
  }
  return undefined;
}
