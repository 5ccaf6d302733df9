import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { isDiskFormat, isUninspectedDiskFormat } from './disk-format';
import type { ImageInspection } from './image-inspection';

/** VMDK create types Glance accepts (oslo format_inspector VMDKInspector, after CVE-2024-32498). */
export const SAFE_VMDK_CREATE_TYPES: readonly string[] = ['monolithicSparse', 'streamOptimized'];

/** Input of {@link validateImageUpload}; sizes in bytes. */
export interface ImageUploadCheck {
  /** The image's `disk_format` as the user declared it at create time. */
  declaredFormat: string;
  /** What the format inspector found in the uploaded bytes. */
  detected: ImageInspection;
  totalBytes: number;
  /** image_size_cap: the largest upload accepted. */
  maxBytes: number;
  /**
   * Glance's `[image_format] require_image_format_match` (default true): false accepts a declared
   * format the bytes are not; the safety and truncation checks of what the bytes are still apply.
   */
  requireFormatMatch?: boolean;
}

/**
 * Refuses an upload the way Glance does before it marks an image active.
 * Throws:
 * - ResourceExhaustedError (reason "image_size_cap") when totalBytes > maxBytes;
 * - InvalidArgumentError('disk_format') when the declared format is unknown or differs from the
 *   detected one (a qcow2 uploaded as "raw" would otherwise be booted as raw, or the reverse). A
 *   declared format the inspector cannot read (ami, ari, aki, vdi, ploop) is not compared, as Glance
 *   does not compare it, but the checks below still apply to what the bytes are;
 * - InvalidArgumentError('disk_format') for images that reference other files: a qcow2 backing file or
 *   external data file, a VHD/VHDX differencing disk, a VMDK with a parent or a create type other than
 *   monolithicSparse/streamOptimized (e.g. monolithicFlat names a separate extent file). Such a
 *   reference lets a user read host files (CVE-2022-47951, CVE-2024-32498);
 * - InvalidArgumentError('disk_format') for a truncated file: fewer bytes than the qcow2 L1/refcount
 *   tables or the VMDK overhead require, a VHD whose footer is missing or short of its tables, a VHDX
 *   cut before its metadata region, an ISO shorter than its volume space (ECMA-119 volume space size
 *   x logical block size).
 */
export function validateImageUpload({ declaredFormat, detected, totalBytes, maxBytes, requireFormatMatch = true }: ImageUploadCheck): void {
  if (totalBytes > maxBytes) {
    throw new ResourceExhaustedError(
      `image of ${totalBytes} bytes exceeds the upload limit of ${maxBytes} bytes`,
      'image_size_cap',
    );
  }
  if (!isDiskFormat(declaredFormat) && !isUninspectedDiskFormat(declaredFormat)) {
    throw new InvalidArgumentError('disk_format', `unsupported disk format "${declaredFormat}"`);
  }
  if (requireFormatMatch && isDiskFormat(declaredFormat) && detected.format !== declaredFormat) {
    throw new InvalidArgumentError(
      'disk_format',
      `declared ${declaredFormat} but the image data is ${detected.format}`,
    );
  }
  const unsafe = referenceToOtherFile(detected);
  if (unsafe) throw new InvalidArgumentError('disk_format', `${detected.format} image refused: ${unsafe}`);
  const truncated = truncation(detected, totalBytes);
  if (truncated) throw new InvalidArgumentError('disk_format', `${detected.format} image is truncated: ${truncated}`);
}

function referenceToOtherFile(d: ImageInspection): string | null {
  switch (d.format) {
    case 'qcow2':
      if (d.details.backingFile !== null) return `it has a backing file "${d.details.backingFile}"`;
      return d.details.externalDataFile ? 'it uses an external data file' : null;
    case 'vmdk':
      if (d.details.hasParent) return 'it has a parent disk';
      if (!SAFE_VMDK_CREATE_TYPES.includes(d.details.createType ?? '')) {
        return `createType "${d.details.createType ?? 'none'}" is not one of ${SAFE_VMDK_CREATE_TYPES.join(', ')}`;
      }
      return d.details.variant === 'descriptor' ? 'a descriptor file alone references other extent files' : null;
    case 'vhd':
      return d.details.diskType === 'differencing' ? `it is a differencing disk of "${d.details.parentName}"` : null;
    case 'vhdx':
      return d.details.hasParent ? 'it is a differencing disk (parent locator)' : null;
    default:
      return null;
  }
}

function truncation(d: ImageInspection, totalBytes: number): string | null {
  const short = (min: number) => (totalBytes < min ? `${totalBytes} bytes arrived, the header requires ${min}` : null);
  switch (d.format) {
    case 'qcow2':
    case 'vmdk':
      return short(d.details.minimumBytes);
    case 'vhd':
      return d.details.footerAtEnd ? short(d.details.minimumBytes) : 'the footer at the end of the file is missing';
    case 'vhdx':
      return d.details.virtualSizeKnown ? null : `the metadata region is missing (${d.details.note ?? 'virtual size unknown'})`;
    case 'iso': {
      const volumeBytes = d.details.volumeSpaceBlocks * d.details.logicalBlockSizeBytes;
      return totalBytes < volumeBytes ? `${totalBytes} bytes arrived, the volume descriptor declares ${volumeBytes}` : null;
    }
    default:
      return null;
  }
}
