import { createHash } from 'node:crypto';
import { BLOCK_SIZE_BYTES } from '@minicloud/domain-volume';
import { decodeBackup, encodeBackup } from './backup-format';

const block = (fill: number) => Buffer.alloc(BLOCK_SIZE_BYTES, fill);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('backup object format', () => {
  it('round-trips the delta and stores each distinct block once', () => {
    const a = block(1);
    const b = block(2);
    const bytes = encodeBackup({ volumeId: 'v', backupId: 'b', parentBackupId: 'p', delta: { '0': sha(a), '3': sha(a), '7': sha(b), '9': '' }, blocks: new Map([[sha(a), a], [sha(b), b]]) });
    expect(bytes.length).toBeLessThan(3 * BLOCK_SIZE_BYTES);
    const o = decodeBackup(bytes);
    expect(o).toMatchObject({ volumeId: 'v', backupId: 'b', parentBackupId: 'p', delta: { '0': sha(a), '3': sha(a), '7': sha(b), '9': '' } });
    expect(o.blocks.get(sha(b))!.equals(b)).toBe(true);
  });

  it('refuses foreign bytes and a corrupt block', () => {
    expect(() => decodeBackup(Buffer.from('hello world'))).toThrow(/not a minicloud backup/);
    const a = block(5);
    const bytes = encodeBackup({ volumeId: 'v', backupId: 'b', parentBackupId: '', delta: { '0': sha(a) }, blocks: new Map([[sha(a), a]]) });
    bytes[bytes.length - 1] = 9;
    expect(() => decodeBackup(bytes)).toThrow(/corrupt/);
  });

  it('refuses to encode a delta whose block bytes are missing', () => {
    expect(() => encodeBackup({ volumeId: 'v', backupId: 'b', parentBackupId: '', delta: { '0': 'abc' }, blocks: new Map() })).toThrow(/missing/);
  });
});
