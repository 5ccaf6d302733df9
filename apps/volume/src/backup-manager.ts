import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { applyDeltas, changedBlocks, InvalidVolumeStatusError, type VolumeStatus } from '@minicloud/domain-volume';
import { keyspace, type Redis } from '@minicloud/platform-state';
import type { CopyRef } from './block-store';
import { decodeBackup, encodeBackup } from './backup-format';
import type { ImageStore } from './image-store';
import { backupFromHash, backupToHash, type BackupRecord, type VolumeRecord } from './records';
import type { Caller, VolumeManager } from './volume-manager';

const k = keyspace('volume');
/** Redis keys of backups (under `mc:volume:`). */
export const backupKeys = {
  backup: (id: string) => k('backup', id),
  projectBackups: (projectId: string) => k('project', projectId, 'backups'),
  volumeBackups: (volumeId: string) => k('volume', volumeId, 'backups'),
  children: (id: string) => k('backup', id, 'children'),
  seq: () => k('backup_seq'),
};

/** Volume statuses a backup may be taken from (Cinder needs force for in-use; we allow it, crash-consistent). */
const BACKUP_STATUSES: readonly VolumeStatus[] = ['available', 'in-use'];

/**
 * Volume backups (Cinder's backup service with a chunked driver): each backup is one object stored as
 * a private image of the service project in the image service's blob store (property
 * `minicloud_backup=true`, `backup_volume_id`, `backup_parent_id`); the record (with the volume's
 * block map at backup time) stays in Redis. A full backup stores every allocated block, an
 * incremental only the blocks changed since its parent (the volume's latest backup). Restore creates a
 * new volume filled by applying the chain oldest first.
 */
export class BackupManager {
  constructor(
    private readonly redis: Redis,
    private readonly volumes: VolumeManager,
    private readonly images: ImageStore,
    private readonly clock: Clock,
  ) {
    volumes.setBackupRestorer((id, copies) => this.fill(id, copies));
  }

  /**
   * Backs a volume up. Incremental: parent = the volume's latest backup, only changed blocks stored.
   * @throws InvalidVolumeStatusError, FailedPreconditionError('no_parent_backup') for an incremental without a backup before it
   */
  async createBackup(caller: Caller, input: { volumeId: string; name: string; incremental: boolean }): Promise<BackupRecord> {
    const v = await this.volumes.getVolume(caller, input.volumeId);
    return this.volumes.locks.run(v.id, async () => {
      const cur = (await this.volumes.readVolume(v.id)) ?? v;
      if (!BACKUP_STATUSES.includes(cur.status)) throw new InvalidVolumeStatusError(cur.status, 'backup');
      const parent = input.incremental ? await this.latest(cur.id) : undefined;
      if (input.incremental && !parent) throw new FailedPreconditionError(`volume ${cur.id} has no backup to base an incremental on`, 'no_parent_backup');
      const src = await this.volumes.readableCopy(cur);
      const map = await this.volumes.blocks.map(src);
      const delta = parent ? changedBlocks(parent.map, map) : map;
      const blocks = new Map<string, Buffer>();
      for (const h of new Set(Object.values(delta))) {
        if (!h) continue;
        const b = await this.volumes.blocks.block(src.node, h);
        if (!b) throw new FailedPreconditionError(`block ${h} of volume ${cur.id} missing on ${src.node}`, 'block_missing');
        blocks.set(h, b);
      }
      const id = randomUUID();
      const bytes = encodeBackup({ volumeId: cur.id, backupId: id, parentBackupId: parent?.id ?? '', delta, blocks });
      const imageId = await this.images.upload(`backup-${id}`, { minicloud_backup: 'true', backup_id: id, backup_volume_id: cur.id, backup_parent_id: parent?.id ?? '', backup_project_id: cur.projectId }, bytes);
      const rec: BackupRecord = {
        id,
        volumeId: cur.id,
        projectId: cur.projectId,
        name: input.name,
        status: 'available',
        incremental: !!parent,
        parentBackupId: parent?.id ?? '',
        imageId,
        sizeBytes: bytes.length,
        blockCount: Object.values(delta).filter((h) => h !== '').length,
        volumeSizeGb: cur.sizeGb,
        map,
        delta,
        createdAtMs: this.clock.nowMs(),
        seq: await this.redis.incr(backupKeys.seq()),
      };
      const m = this.redis.multi().hset(backupKeys.backup(id), ...backupToHash(rec)).sadd(backupKeys.projectBackups(rec.projectId), id).sadd(backupKeys.volumeBackups(rec.volumeId), id);
      if (parent) m.sadd(backupKeys.children(parent.id), id);
      await m.exec();
      return rec;
    });
  }

  private async latest(volumeId: string): Promise<BackupRecord | undefined> {
    const all = await this.read(await this.redis.smembers(backupKeys.volumeBackups(volumeId)));
    return all.sort((a, b) => b.seq - a.seq)[0];
  }

  private async read(ids: string[]): Promise<BackupRecord[]> {
    return (await Promise.all(ids.map(async (id) => backupFromHash(await this.redis.hgetall(backupKeys.backup(id)))))).filter((b): b is BackupRecord => !!b);
  }

  /** @throws InvalidArgumentError('backup_id'), NotFoundError('backup') also for another project's */
  async getBackup(caller: Caller, id: string): Promise<BackupRecord> {
    if (!id) throw new InvalidArgumentError('backup_id', 'must not be empty');
    const b = backupFromHash(await this.redis.hgetall(backupKeys.backup(id)));
    if (!b || (!caller.admin && b.projectId !== caller.projectId)) throw new NotFoundError('backup', id);
    return b;
  }

  /** The caller's project's backups (or one volume's), oldest first. */
  async listBackups(caller: Caller, volumeId?: string): Promise<BackupRecord[]> {
    const ids = volumeId ? await this.redis.smembers(backupKeys.volumeBackups(volumeId)) : await this.redis.smembers(backupKeys.projectBackups(caller.projectId));
    const all = await this.read(ids);
    return all.filter((b) => caller.admin || b.projectId === caller.projectId).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Restores a backup into a new volume (of the backup's volume size; `volumeType` or the default).
   * @returns the new volume (creating; available once the chain is applied)
   */
  async restoreBackup(caller: Caller, input: { backupId: string; name: string; volumeType: string }): Promise<VolumeRecord> {
    const b = await this.getBackup(caller, input.backupId);
    return this.volumes.createVolume(caller, { name: input.name || `restore-${b.id}`, sizeGb: b.volumeSizeGb, volumeType: input.volumeType, availabilityZone: '', backupId: b.id, metadata: { restored_from_backup: b.id } });
  }

  /** Fills `copies` from a backup chain: downloads every object from the full one on, applies the deltas oldest first. */
  private async fill(backupId: string, copies: CopyRef[]): Promise<void> {
    const chain: BackupRecord[] = [];
    for (let id = backupId; id; ) {
      const b = backupFromHash(await this.redis.hgetall(backupKeys.backup(id)));
      if (!b) throw new NotFoundError('backup', id);
      chain.unshift(b);
      id = b.parentBackupId;
    }
    const bytesBySha = new Map<string, Buffer>();
    for (const b of chain) {
      const parts: Buffer[] = [];
      for await (const c of this.images.download(b.imageId)) parts.push(Buffer.from(c));
      const o = decodeBackup(Buffer.concat(parts));
      for (const [h, bytes] of o.blocks) bytesBySha.set(h, bytes);
    }
    const final = applyDeltas(chain.map((b) => b.delta));
    for (const [i, h] of Object.entries(final)) {
      const bytes = bytesBySha.get(h);
      if (!bytes) throw new FailedPreconditionError(`backup chain of ${backupId} lacks block ${h}`, 'backup_corrupt');
      for (const c of copies) await this.volumes.blocks.putBlock(c, Number(i), bytes);
    }
  }

  /**
   * Deletes a backup and its image.
   * @throws FailedPreconditionError('backup_has_dependents') while incrementals are based on it
   */
  async deleteBackup(caller: Caller, id: string): Promise<void> {
    const b = await this.getBackup(caller, id);
    const n = await this.redis.scard(backupKeys.children(id));
    if (n > 0) throw new FailedPreconditionError(`backup ${id} has ${n} dependent incremental backup(s): delete them first`, 'backup_has_dependents');
    await this.images.delete(b.imageId);
    const m = this.redis.multi().del(backupKeys.backup(id), backupKeys.children(id)).srem(backupKeys.projectBackups(b.projectId), id).srem(backupKeys.volumeBackups(b.volumeId), id);
    if (b.parentBackupId) m.srem(backupKeys.children(b.parentBackupId), id);
    await m.exec();
  }
}
