import { bytesAt, text, u64 } from './bytes';
import type { VmdkDetails, VmdkExtent } from './image-inspection';

const SECTOR_BYTES = 512;
const DESCRIPTOR_HEADER = '# Disk DescriptorFile';
const EXTENT_LINE = /^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Z]+)(?:\s+"([^"]*)")?/;

/**
 * Parses a VMDK (VMware "Virtual Disk Format 5.0"): either a hosted sparse extent (magic "KDMV",
 * little-endian: capacity in sectors u64 @12, descriptorOffset/Size in sectors @28/@36, overHead in
 * sectors @64) with its embedded descriptor, or a text descriptor file alone ("# Disk DescriptorFile",
 * e.g. monolithicFlat, whose virtual size is the sum of its extents' sectors * 512).
 * Returns undefined when `head` is neither.
 */
export function inspectVmdk(
  head: Uint8Array,
  totalBytes: number,
): { virtualSizeBytes: number; details: VmdkDetails } | undefined {
  if (bytesAt(head, 0, 'KDMV')) return inspectSparse(head);
  if (bytesAt(head, 0, DESCRIPTOR_HEADER)) {
    const descriptor = parseDescriptor(text(head, 0, head.length));
    const sectors = descriptor.extents.reduce((sum, e) => sum + e.sectors, 0);
    return {
      virtualSizeBytes: sectors * SECTOR_BYTES,
      details: { variant: 'descriptor', ...descriptor, minimumBytes: Math.min(totalBytes, head.length) },
    };
  }
  return undefined;
}

function inspectSparse(head: Uint8Array): { virtualSizeBytes: number; details: VmdkDetails } | undefined {
  const capacity = u64(head, 12, true);
  const overHead = u64(head, 64, true);
  if (capacity === undefined || overHead === undefined) return undefined;
  const descOffset = (u64(head, 28, true) ?? 0) * SECTOR_BYTES;
  const descSize = (u64(head, 36, true) ?? 0) * SECTOR_BYTES;
  const descriptor =
    descOffset > 0 && descSize > 0
      ? parseDescriptor(text(head, descOffset, descSize))
      : { createType: null, extents: [], hasParent: false };
  return {
    virtualSizeBytes: capacity * SECTOR_BYTES,
    details: { variant: 'sparse', ...descriptor, minimumBytes: overHead * SECTOR_BYTES },
  };
}

function parseDescriptor(body: string): Pick<VmdkDetails, 'createType' | 'extents' | 'hasParent'> {
  let createType: string | null = null;
  let hasParent = false;
  const extents: VmdkExtent[] = [];
  for (const line of body.split(/\r?\n/)) {
    const kv = /^\s*([A-Za-z.]+)\s*=\s*"?([^"]*)"?\s*$/.exec(line);
    if (kv) {
      const [, key, value] = kv;
      if (key === 'createType') createType = value;
      if (key === 'parentCID' && value.toLowerCase() !== 'ffffffff') hasParent = true;
      if (key === 'parentFileNameHint' && value !== '') hasParent = true;
      continue;
    }
    const ext = EXTENT_LINE.exec(line);
    if (ext) extents.push({ access: ext[1], sectors: Number(ext[2]), type: ext[3], fileName: ext[4] ?? null });
  }
  return { createType, extents, hasParent };
}
