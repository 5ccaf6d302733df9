import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Cluster size of the images {@link buildSnapshotQcow2} writes: 64 KiB, qemu-img's default. */
export const SNAPSHOT_CLUSTER_BITS = 16;

/**
 * The bytes of an instance snapshot of a simulated disk: a valid, empty qcow2 version 3 image of
 * `virtualSizeBytes` (no backing file, no data clusters), laid out as `qemu-img create -f qcow2`
 * does (QEMU docs/interop/qcow2.txt): header in cluster 0, refcount table in cluster 1, one
 * refcount block (16-bit refcounts) in cluster 2, the L1 table from cluster 3 on (file ends with it).
 * Hypervisors here are simulated, so a snapshot has no guest data; the image service still
 * inspects, checksums and stores it like any upload, and `qemu-img check` finds no error in it.
 * @param virtualSizeBytes a positive multiple of 512, at most 4 TiB (one L1 cluster)
 * @throws InvalidArgumentError('virtual_size_bytes') otherwise
 */
export function buildSnapshotQcow2(virtualSizeBytes: number): Uint8Array {
  const clusterBytes = 2 ** SNAPSHOT_CLUSTER_BITS;
  const bytesPerL2 = clusterBytes * (clusterBytes / 8);
  if (!Number.isSafeInteger(virtualSizeBytes) || virtualSizeBytes <= 0 || virtualSizeBytes % 512 !== 0) {
    throw new InvalidArgumentError('virtual_size_bytes', 'must be a positive multiple of 512');
  }
  const l1Entries = Math.ceil(virtualSizeBytes / bytesPerL2);
  if (l1Entries * 8 > clusterBytes) throw new InvalidArgumentError('virtual_size_bytes', `must be at most ${clusterBytes / 8} x ${bytesPerL2} bytes`);
  const refcountTableOffset = clusterBytes;
  const refcountBlockOffset = 2 * clusterBytes;
  const l1Offset = 3 * clusterBytes;
  const out = new Uint8Array(l1Offset + l1Entries * 8);
  const v = new DataView(out.buffer);
  const u64 = (off: number, n: number) => {
    v.setUint32(off, Math.floor(n / 0x1_0000_0000));
    v.setUint32(off + 4, n >>> 0);
  };
  out.set([0x51, 0x46, 0x49, 0xfb], 0); // "QFI\xfb"
  v.setUint32(4, 3); // version
  // 8: backing_file_offset = 0, 16: backing_file_size = 0
  v.setUint32(20, SNAPSHOT_CLUSTER_BITS);
  u64(24, virtualSizeBytes);
  // 32: crypt_method = 0
  v.setUint32(36, l1Entries);
  u64(40, l1Offset);
  u64(48, refcountTableOffset);
  v.setUint32(56, 1); // refcount_table_clusters
  // 60: nb_snapshots = 0, 64: snapshots_offset = 0, 72..95: feature bits = 0
  v.setUint32(96, 4); // refcount_order: 2^4 = 16-bit refcounts
  v.setUint32(100, 104); // header_length
  // 104: header extension "end" (type 0, length 0)
  u64(refcountTableOffset, refcountBlockOffset);
  for (let cluster = 0; cluster < 4; cluster++) v.setUint16(refcountBlockOffset + cluster * 2, 1);
  return out;
}
