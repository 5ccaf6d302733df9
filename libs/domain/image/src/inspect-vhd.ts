import { bytesAt, text, u32, u64 } from './bytes';
import type { VhdDetails } from './image-inspection';

/** Footer length; the footer is the last 512 bytes of every VHD (VHD spec 1.0, "Hard Disk Footer Format"). */
export const VHD_FOOTER_BYTES = 512;
const FILE_FORMAT_VERSION = 0x0001_0000;
const DISK_TYPES: Record<number, VhdDetails['diskType']> = { 2: 'fixed', 3: 'dynamic', 4: 'differencing' };

interface VhdFooter {
  currentSizeBytes: number;
  diskType: VhdDetails['diskType'];
  dataOffset: number;
  creatorApplication: string;
}

/**
 * Reads a VHD footer at `offset`. Big-endian: cookie "conectix" @0, file format version @12 (must be
 * 0x00010000), data offset u64 @16, creator application @28, current size u64 @48, disk type @60,
 * checksum @64 (one's complement of the byte sum with the checksum field zeroed). All of these must
 * hold, so random data (or a file that merely contains the word "conectix") is not taken for a VHD.
 */
export function readVhdFooter(b: Uint8Array, offset: number): VhdFooter | undefined {
  if (offset < 0 || offset + VHD_FOOTER_BYTES > b.length || !bytesAt(b, offset, 'conectix')) return undefined;
  if (u32(b, offset + 12, false) !== FILE_FORMAT_VERSION) return undefined;
  const diskType = DISK_TYPES[u32(b, offset + 60, false) ?? 0];
  if (!diskType) return undefined;
  let sum = 0;
  for (let i = 0; i < VHD_FOOTER_BYTES; i++) if (i < 64 || i > 67) sum += b[offset + i];
  if ((~sum >>> 0) !== u32(b, offset + 64, false)) return undefined;
  return {
    currentSizeBytes: u64(b, offset + 48, false) ?? 0,
    diskType,
    dataOffset: u64(b, offset + 16, false) ?? 0,
    creatorApplication: text(b, offset + 28, 4, 'latin1'),
  };
}

/**
 * Inspects a VHD from the head and the last 512 bytes. The footer at the end is authoritative; the
 * copy at offset 0 (dynamic and differencing disks) lets a file whose footer is missing still be
 * recognised, with `footerAtEnd: false` so the validator calls it truncated. For dynamic disks the
 * dynamic header ("cxsparse" at the footer's data offset) gives the BAT: table offset u64 @16, max
 * entries u32 @28 (4 bytes each), parent unicode name @64 (512 bytes UTF-16BE).
 */
export function inspectVhd(
  head: Uint8Array,
  tail: Uint8Array,
  totalBytes: number,
): { virtualSizeBytes: number; details: VhdDetails } | undefined {
  const atEnd =
    totalBytes >= VHD_FOOTER_BYTES && tail.length === VHD_FOOTER_BYTES ? readVhdFooter(tail, 0) : undefined;
  const atStart = readVhdFooter(head, 0);
  const startCopy = atStart && atStart.diskType !== 'fixed' ? atStart : undefined;
  const footer = atEnd ?? startCopy;
  if (!footer) return undefined;
  let minimumBytes = footer.currentSizeBytes + VHD_FOOTER_BYTES;
  let parentName: string | null = null;
  if (footer.diskType !== 'fixed') {
    const dyn = footer.dataOffset;
    const batOffset = bytesAt(head, dyn, 'cxsparse') ? u64(head, dyn + 16, false) : undefined;
    const batEntries = u32(head, dyn + 28, false) ?? 0;
    minimumBytes =
      batOffset !== undefined ? Math.max(dyn + 1024, batOffset + batEntries * 4) + VHD_FOOTER_BYTES : 2 * VHD_FOOTER_BYTES;
    if (footer.diskType === 'differencing') parentName = text(head, dyn + 64, 512, 'utf-16be') || '';
  }
  return {
    virtualSizeBytes: footer.currentSizeBytes,
    details: {
      diskType: footer.diskType,
      footerAtEnd: atEnd !== undefined,
      footerCopyAtStart: startCopy !== undefined,
      parentName,
      creatorApplication: footer.creatorApplication,
      minimumBytes,
    },
  };
}
