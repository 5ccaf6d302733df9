import { bytesAt, text, u32, u64 } from './bytes';
import type { Qcow2Details } from './image-inspection';

const QCOW2_MAGIC = 'QFI\xfb';
/** Incompatible feature bit 2 "external data file" (qcow2.txt, header offset 72). */
const INCOMPAT_DATA_FILE = 4;

/**
 * Parses a qcow2 header (QEMU docs/interop/qcow2.txt): magic "QFI\xfb", version u32 @4, backing file
 * offset u64 @8 and size u32 @16, cluster_bits u32 @20, size (virtual, bytes) u64 @24, crypt_method
 * @32, l1_size @36, l1_table_offset u64 @40, refcount_table_offset u64 @48, refcount_table_clusters
 * @56, v3 incompatible_features u64 @72; all big-endian. Returns undefined when `head` is not qcow2
 * (wrong magic, version not 2/3, cluster_bits outside 9..21, or header cut short).
 */
export function inspectQcow2(head: Uint8Array): { virtualSizeBytes: number; details: Qcow2Details } | undefined {
  if (!bytesAt(head, 0, QCOW2_MAGIC)) return undefined;
  const version = u32(head, 4, false);
  const clusterBits = u32(head, 20, false);
  const size = u64(head, 24, false);
  const refcountClusters = u32(head, 56, false);
  if ((version !== 2 && version !== 3) || clusterBits === undefined || size === undefined) return undefined;
  if (refcountClusters === undefined || clusterBits < 9 || clusterBits > 21) return undefined;
  const clusterSizeBytes = 2 ** clusterBits;
  const backingOffset = u64(head, 8, false) ?? 0;
  const backingSize = u32(head, 16, false) ?? 0;
  const l1Entries = u32(head, 36, false) ?? 0;
  const l1Offset = u64(head, 40, false) ?? 0;
  const refcountOffset = u64(head, 48, false) ?? 0;
  const incompatible = version === 3 ? (u64(head, 72, false) ?? 0) : 0;
  const headerBytes = version === 3 ? (u32(head, 100, false) ?? 104) : 72;
  const minimumBytes = Math.max(
    headerBytes,
    l1Entries > 0 ? l1Offset + l1Entries * 8 : 0,
    refcountOffset + refcountClusters * clusterSizeBytes,
  );
  let backingFile: string | null = null;
  if (backingOffset !== 0) {
    backingFile = backingOffset + backingSize <= head.length ? text(head, backingOffset, backingSize) : '';
  }
  return {
    virtualSizeBytes: size,
    details: {
      version,
      clusterBits,
      clusterSizeBytes,
      backingFile,
      // The low 32 bits hold the defined feature bits.
      externalDataFile: (incompatible % 0x1_0000_0000 & INCOMPAT_DATA_FILE) !== 0,
      cryptMethod: u32(head, 32, false) ?? 0,
      minimumBytes,
    },
  };
}
