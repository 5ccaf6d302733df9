/**
 * What the format inspector learned about an uploaded image. `virtualSizeBytes` is the guest-visible
 * disk size (Glance's `virtual_size`); `details` depends on the format. Where a header implies a
 * minimum file length, `minimumBytes` carries it so the upload validator can refuse truncated files.
 */
/** qcow2 header facts (QEMU docs/interop/qcow2.txt). */
export interface Qcow2Details {
  version: 2 | 3;
  clusterBits: number;
  clusterSizeBytes: number;
  /** Backing file name; '' when the header points at one we could not read; null when none. */
  backingFile: string | null;
  /** Incompatible feature bit 2: guest data lives in another file (same attack class as a backing file). */
  externalDataFile: boolean;
  /** crypt_method: 0 none, 1 AES, 2 LUKS. */
  cryptMethod: number;
  /** End of the L1 table / refcount table the header points to: a shorter file is truncated. */
  minimumBytes: number;
}

/** One extent line of a VMDK descriptor, e.g. `RW 20480 FLAT "x-flat.vmdk" 0`. */
export interface VmdkExtent {
  access: string;
  sectors: number;
  type: string;
  fileName: string | null;
}

/** VMDK facts (VMware "Virtual Disk Format 5.0"). */
export interface VmdkDetails {
  /** `sparse`: a hosted sparse extent ("KDMV" header); `descriptor`: a text descriptor file alone. */
  variant: 'sparse' | 'descriptor';
  /** createType from the (embedded) descriptor, e.g. monolithicSparse, streamOptimized, monolithicFlat. */
  createType: string | null;
  extents: VmdkExtent[];
  /** True when the descriptor names a parent (parentCID other than ffffffff, or a parentFileNameHint). */
  hasParent: boolean;
  /** Sparse: overHead sectors * 512 (header, descriptor, grain directories/tables); descriptor: its own length. */
  minimumBytes: number;
}

/** VHD facts (Microsoft "Virtual Hard Disk Image Format Specification" 1.0, footer + dynamic header). */
export interface VhdDetails {
  diskType: 'fixed' | 'dynamic' | 'differencing';
  /** The mandatory 512-byte footer is present at the end of the file. */
  footerAtEnd: boolean;
  /** Dynamic/differencing disks keep a copy of the footer at offset 0. */
  footerCopyAtStart: boolean;
  /** Parent name of a differencing disk (UTF-16BE in the dynamic header), else null. */
  parentName: string | null;
  creatorApplication: string;
  /** Fixed: current size + 512; dynamic: end of the BAT + 512 (footer). */
  minimumBytes: number;
}

/** VHDX facts (MS-VHDX). */
export interface VhdxDetails {
  /** False when the metadata region could not be read while streaming; virtualSizeBytes is then 0. */
  virtualSizeKnown: boolean;
  /** True when the metadata holds a Parent Locator item (a differencing disk). */
  hasParent: boolean;
  /** Why the virtual size is unknown, when it is. */
  note: string | null;
}

/** ISO 9660 primary volume descriptor facts (ECMA-119 8.4). */
export interface IsoDetails {
  volumeSpaceBlocks: number;
  logicalBlockSizeBytes: number;
  volumeId: string;
}

/** Result of {@link FormatInspector.result}, discriminated by `format`. */
export type ImageInspection =
  | { format: 'qcow2'; virtualSizeBytes: number; details: Qcow2Details }
  | { format: 'vmdk'; virtualSizeBytes: number; details: VmdkDetails }
  | { format: 'vhd'; virtualSizeBytes: number; details: VhdDetails }
  | { format: 'vhdx'; virtualSizeBytes: number; details: VhdxDetails }
  | { format: 'iso'; virtualSizeBytes: number; details: IsoDetails }
  | { format: 'raw'; virtualSizeBytes: number; details: Record<string, never> };


