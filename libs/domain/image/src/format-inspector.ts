import { InvalidArgumentError } from '@minicloud/domain-errors';
import { ByteCapture } from './byte-capture';
import type { ImageInspection, VhdxDetails } from './image-inspection';
import { inspectIso } from './inspect-iso';
import { inspectQcow2 } from './inspect-qcow2';
import { inspectVhd, VHD_FOOTER_BYTES } from './inspect-vhd';
import {
  isVhdx,
  VHDX_REGION_TABLE_OFFSET,
  VHDX_TABLE_BYTES,
  vhdxMetadataItems,
  vhdxMetadataRegionOffset,
  vhdxVirtualSize,
} from './inspect-vhdx';
import { inspectVmdk } from './inspect-vmdk';

/** Bytes kept from the start of the stream: every header we read lives there (ISO PVD at 32 KiB). */
export const INSPECTOR_HEAD_BYTES = 64 * 1024;

/** Incremental disk-format detector fed with an upload's chunks, in order. */
export interface FormatInspector {
  /** Feeds the next chunk; keeps only the head, the last 512 bytes and (VHDX) its metadata items. */
  push(chunk: Uint8Array): void;
  /** Bytes pushed so far. */
  readonly bytesSeen: number;
  /**
   * Detects the format once every chunk was pushed. `totalBytes` is the upload's length and must equal
   * `bytesSeen` (throws InvalidArgumentError('totalBytes') otherwise: the tail would be wrong).
   */
  result(totalBytes: number): ImageInspection;
}

/**
 * Creates a streaming inspector in the spirit of Glance's format_inspector
 * (oslo_utils.imageutils.format_inspector). Memory: 64 KiB head + 512-byte tail, plus two 64 KiB
 * tables and 8 bytes for a VHDX. Checks run in this order, so the most specific evidence wins:
 * qcow2 magic, vhdx signature, vmdk ("KDMV" or a text descriptor) at offset 0; then a VHD footer
 * (checksummed, at the end or as the copy at 0) so a fixed VHD whose guest data is an ISO is still a
 * VHD; then the ISO 9660 primary volume descriptor at 0x8000; anything else is raw (virtual size =
 * byte size).
 */
export function createFormatInspector(): FormatInspector {
  let position = 0;
  let tail: Uint8Array = new Uint8Array(0);
  const captures: ByteCapture[] = [];
  const head = new ByteCapture(0, INSPECTOR_HEAD_BYTES, 0, () => onHeadComplete());
  captures.push(head);
  const vhdx: { virtualSizeBytes?: number; hasParent: boolean; note: string | null } = {
    hasParent: false,
    note: null,
  };
  let chunkStart = 0;

  function capture(start: number, length: number, onComplete: (b: Uint8Array) => void, what: string): void {
    const c = new ByteCapture(start, length, chunkStart, onComplete);
    if (c.missed) vhdx.note = `${what} at offset ${start} precedes data already streamed`;
    captures.push(c);
  }

  function onHeadComplete(): void {
    if (!isVhdx(head.bytes)) return;
    capture(VHDX_REGION_TABLE_OFFSET, VHDX_TABLE_BYTES, onRegionTable, 'region table');
  }

  function onRegionTable(table: Uint8Array): void {
    const metadataOffset = vhdxMetadataRegionOffset(table);
    if (metadataOffset === undefined) {
      vhdx.note = 'region table has no metadata region';
      return;
    }
    capture(metadataOffset, VHDX_TABLE_BYTES, (meta) => onMetadataTable(metadataOffset, meta), 'metadata table');
  }

  function onMetadataTable(metadataOffset: number, meta: Uint8Array): void {
    const items = vhdxMetadataItems(meta);
    if (!items || items.virtualSizeItemOffset === undefined) {
      vhdx.note = 'metadata table has no Virtual Disk Size item';
      return;
    }
    vhdx.hasParent = items.hasParent;
    capture(
      metadataOffset + items.virtualSizeItemOffset,
      8,
      (item) => (vhdx.virtualSizeBytes = vhdxVirtualSize(item)),
      'virtual disk size item',
    );
  }

  function keepTail(chunk: Uint8Array): void {
    if (chunk.length >= VHD_FOOTER_BYTES) {
      tail = chunk.slice(chunk.length - VHD_FOOTER_BYTES);
      return;
    }
    const joined = new Uint8Array(tail.length + chunk.length);
    joined.set(tail);
    joined.set(chunk, tail.length);
    tail = joined.slice(Math.max(0, joined.length - VHD_FOOTER_BYTES));
  }

  return {
    get bytesSeen() {
      return position;
    },
    push(chunk: Uint8Array): void {
      if (chunk.length === 0) return;
      chunkStart = position;
      // Captures added by a completion callback are offered the same chunk (the loop sees them).
      for (let i = 0; i < captures.length; i++) captures[i].offer(chunk, chunkStart);
      keepTail(chunk);
      position += chunk.length;
    },
    result(totalBytes: number): ImageInspection {
      if (totalBytes !== position) {
        throw new InvalidArgumentError('totalBytes', `is ${totalBytes} but ${position} bytes were pushed`);
      }
      return detect({ head: head.received(), tail, totalBytes }, vhdxDetails(totalBytes));
    },
  };

  function vhdxDetails(totalBytes: number): { virtualSizeBytes: number; details: VhdxDetails } {
    const known = vhdx.virtualSizeBytes !== undefined;
    const note = known ? null : (vhdx.note ?? `metadata not found in the ${totalBytes} bytes uploaded`);
    return {
      virtualSizeBytes: vhdx.virtualSizeBytes ?? 0,
      details: { virtualSizeKnown: known, hasParent: vhdx.hasParent, note },
    };
  }
}

function detect(
  { head, tail, totalBytes }: { head: Uint8Array; tail: Uint8Array; totalBytes: number },
  vhdx: { virtualSizeBytes: number; details: VhdxDetails },
): ImageInspection {
  const qcow2 = inspectQcow2(head);
  if (qcow2) return { format: 'qcow2', ...qcow2 };
  if (isVhdx(head)) return { format: 'vhdx', ...vhdx };
  const vmdk = inspectVmdk(head, totalBytes);
  if (vmdk) return { format: 'vmdk', ...vmdk };
  const vhd = inspectVhd(head, tail, totalBytes);
  if (vhd) return { format: 'vhd', ...vhd };
  const iso = inspectIso(head);
  if (iso) return { format: 'iso', ...iso };
  return { format: 'raw', virtualSizeBytes: totalBytes, details: {} };
}

/** Convenience for whole buffers (tests, small blobs): one push, then result. */
export function inspectImageBytes(bytes: Uint8Array): ImageInspection {
  const inspector = createFormatInspector();
  inspector.push(bytes);
  return inspector.result(bytes.length);
}
