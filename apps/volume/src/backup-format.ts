import { createHash } from 'node:crypto';
import { BLOCK_SIZE_BYTES } from '@minicloud/domain-volume';
import { InvalidArgumentError } from '@minicloud/domain-errors';

const MAGIC = Buffer.from('MCBK1\n');

/** What one backup object holds: the changed-block delta and the bytes of each distinct block in it. */
export interface BackupObject {
  volumeId: string;
  backupId: string;
  parentBackupId: string;
  /** block index -> sha256 ('' = discarded since the parent). */
  delta: Record<string, string>;
  /** sha256 -> block bytes ({@link BLOCK_SIZE_BYTES} each). */
  blocks: Map<string, Buffer>;
}

/**
 * Serialises a backup object (the bytes stored as an image): "MCBK1\n", a uint32 BE header length, a
 * JSON header {volume_id, backup_id, parent_backup_id, block_size, delta, order}, then the blocks in
 * `order` (one per distinct sha256 of the delta). Modelled on Cinder's chunked backup driver
 * (metadata object + sha256 list + chunks), in one object.
 */
export function encodeBackup(o: BackupObject): Buffer {
  const order = [...new Set(Object.values(o.delta).filter((h) => h !== ''))];
  const header = Buffer.from(JSON.stringify({ volume_id: o.volumeId, backup_id: o.backupId, parent_backup_id: o.parentBackupId, block_size: BLOCK_SIZE_BYTES, delta: o.delta, order }));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  const blocks = order.map((h) => {
    const b = o.blocks.get(h);
    if (!b || b.length !== BLOCK_SIZE_BYTES) throw new InvalidArgumentError('blocks', `block ${h} missing or not ${BLOCK_SIZE_BYTES} bytes`);
    return b;
  });
  return Buffer.concat([MAGIC, len, header, ...blocks]);
}

/**
 * Parses {@link encodeBackup}'s bytes and checks every block against its sha256.
 * @throws InvalidArgumentError('backup') when the bytes are not a backup object or a block is corrupt
 */
export function decodeBackup(bytes: Buffer): BackupObject {
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new InvalidArgumentError('backup', 'not a minicloud backup object');
  const hlen = bytes.readUInt32BE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(bytes.subarray(start, start + hlen).toString('utf8')) as { volume_id: string; backup_id: string; parent_backup_id: string; block_size: number; delta: Record<string, string>; order: string[] };
  if (header.block_size !== BLOCK_SIZE_BYTES) throw new InvalidArgumentError('backup', `block size ${header.block_size} unsupported`);
  let off = start + hlen;
  const blocks = new Map<string, Buffer>();
  for (const h of header.order) {
    const b = bytes.subarray(off, off + BLOCK_SIZE_BYTES);
    if (b.length !== BLOCK_SIZE_BYTES || createHash('sha256').update(b).digest('hex') !== h) throw new InvalidArgumentError('backup', `block ${h} is corrupt`);
    blocks.set(h, Buffer.from(b));
    off += BLOCK_SIZE_BYTES;
  }
  return { volumeId: header.volume_id, backupId: header.backup_id, parentBackupId: header.parent_backup_id, delta: header.delta, blocks };
}
