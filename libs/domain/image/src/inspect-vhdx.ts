import { bytesAt, guidBytes, u16, u32, u64 } from './bytes';

/** MS-VHDX 2.2: file type identifier at 0, region table at 192 KiB (copy at 256 KiB). */
export const VHDX_SIGNATURE = 'vhdxfile';
export const VHDX_REGION_TABLE_OFFSET = 192 * 1024;
/** Region table and metadata table are each 64 KiB (MS-VHDX 2.2.3, 2.6.1). */
export const VHDX_TABLE_BYTES = 64 * 1024;
const METADATA_REGION = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VIRTUAL_DISK_SIZE = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');
const PARENT_LOCATOR = guidBytes('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C');

/** True when `head` starts with the VHDX file type identifier "vhdxfile". */
export function isVhdx(head: Uint8Array): boolean {
  return bytesAt(head, 0, VHDX_SIGNATURE);
}

/**
 * File offset of the metadata region from a region table (signature "regi", entry count u32 @8,
 * 32-byte entries from @16: GUID, file offset u64 @16, length u32 @24; little-endian), or undefined.
 */
export function vhdxMetadataRegionOffset(regionTable: Uint8Array): number | undefined {
  if (!bytesAt(regionTable, 0, 'regi')) return undefined;
  const count = Math.min(u32(regionTable, 8, true) ?? 0, 2047);
  for (let i = 0; i < count; i++) {
    const entry = 16 + i * 32;
    if (bytesAt(regionTable, entry, METADATA_REGION)) return u64(regionTable, entry + 16, true);
  }
  return undefined;
}

/**
 * Reads the metadata table (signature "metadata", entry count u16 @10, 32-byte entries from @32:
 * item GUID, offset u32 @16 relative to the region, length u32 @20). Returns the region-relative
 * offset of the Virtual Disk Size item (a u64, MS-VHDX 2.6.2.2) and whether a Parent Locator exists.
 */
export function vhdxMetadataItems(
  metadataTable: Uint8Array,
): { virtualSizeItemOffset: number | undefined; hasParent: boolean } | undefined {
  if (!bytesAt(metadataTable, 0, 'metadata')) return undefined;
  const count = Math.min(u16(metadataTable, 10, true) ?? 0, 2047);
  let virtualSizeItemOffset: number | undefined;
  let hasParent = false;
  for (let i = 0; i < count; i++) {
    const entry = 32 + i * 32;
    if (bytesAt(metadataTable, entry, VIRTUAL_DISK_SIZE)) virtualSizeItemOffset = u32(metadataTable, entry + 16, true);
    if (bytesAt(metadataTable, entry, PARENT_LOCATOR)) hasParent = true;
  }
  return { virtualSizeItemOffset, hasParent };
}

/** The Virtual Disk Size item value: u64 little-endian bytes. */
export function vhdxVirtualSize(item: Uint8Array): number | undefined {
  return u64(item, 0, true);
}
