import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { applyDeltas, changedBlocks, InvalidVolumeStatusError, type VolumeStatus } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import type { BlockStore, CopyRef } from './block-store';
import { decodeBackup, encodeBackup } from './backup-format';
import type { ImageStore } from './image-store';
import type { KeyedMutex } from './keyed-mutex';
import { backupHash, type BackupRecord, type VolumeRecord } from './records';
import { visibleTo, type Caller } from './store/deps';
import { keys } from './store/keys';
import type { VolumeCreation } from './volume-creation';
import type { Volumes } from './volumes';

/** What {@link Backups} uses. */
export interface BackupsDeps {
  redis: Redis;
  volumes: Pick<Volumes, 'get' | 'read' | 'readableCopy'>;
  /** Restores create a volume; the chain is applied when its creation completes. */
  creation: Pick<VolumeCreation, 'create' | 'setBackupRestorer'>;
  blocks: BlockStore;
  locks: KeyedMutex;
  images: ImageStore;
  clock: Clock;
}

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
export class Backups {
  constructor(private readonly d: BackupsDeps) {
    d.creation.setBackupRestorer((id, copies) => this.fill(id, copies));
  }

  /**
   * Backs a volume up. Incremental: parent = the volume's latest backup, only changed blocks stored.
   * @throws InvalidVolumeStatusError, FailedPreconditionError('no_parent_backup') for an incremental without a backup before it
   */
  async create(caller: Caller, input: { volumeId: string; name: string; incremental: boolean }): Promise<BackupRecord> {
    const v = await this.d.volumes.get(caller, input.volumeId);
    return this.d.locks.run(v.id, async () => {
      const cur = (await this.d.volumes.read(v.id)) ?? v;
      if (!BACKUP_STATUSES.includes(cur.status)) throw new InvalidVolumeStatusError(cur.status, 'backup');
      const parent = input.incremental ? await this.latest(cur.id) : undefined;
      if (input.incremental && !parent) throw new FailedPreconditionError(`volume ${cur.id} has no backup to base an incremental on`, 'no_parent_backup');
      const src = await this.d.volumes.readableCopy(cur);
      const map = await this.d.blocks.map(src);
      const delta = parent ? changedBlocks(parent.map, map) : map;
      const blocks = new Map<string, Buffer>();
      for (const h of new Set(Object.values(delta))) {
        if (!h) continue;
        const b = await this.d.blocks.block(src.node, h);
        if (!b) throw new FailedPreconditionError(`block ${h} of volume ${cur.id} missing on ${src.node}`, 'block_missing');
        blocks.set(h, b);
      }
      const id = randomUUID();
      const bytes = encodeBackup({ volumeId: cur.id, backupId: id, parentBackupId: parent?.id ?? '', delta, blocks });
      const imageId = await this.d.images.upload(`backup-${id}`, { minicloud_backup: 'true', backup_id: id, backup_volume_id: cur.id, backup_parent_id: parent?.id ?? '', backup_project_id: cur.projectId }, bytes);
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
        createdAtMs: this.d.clock.nowMs(),
        seq: await this.d.redis.incr(keys.backupSeq()),
      };
      const m = this.d.redis.multi().hset(keys.backup(id), ...backupHash.toHash(rec)).sadd(keys.projectBackups(rec.projectId), id).sadd(keys.volumeBackups(rec.volumeId), id);
      if (parent) m.sadd(keys.backupChildren(parent.id), id);
      await m.exec();
      return rec;
    });
  }

  private async latest(volumeId: string): Promise<BackupRecord | undefined> {
    const all = await this.read(await this.d.redis.smembers(keys.volumeBackups(volumeId)));
    return all.sort((a, b) => b.seq - a.seq)[0];
  }

  private async read(ids: string[]): Promise<BackupRecord[]> {
    return (await Promise.all(ids.map(async (id) => backupHash.fromHash(await this.d.redis.hgetall(keys.backup(id)))))).filter((b): b is BackupRecord => !!b);
  }

  /** @throws InvalidArgumentError('backup_id'), NotFoundError('backup') also for another project's */
  async get(caller: Caller, id: string): Promise<BackupRecord> {
    return visibleTo(caller, 'backup', id, id ? backupHash.fromHash(await this.d.redis.hgetall(keys.backup(id))) : undefined);
  }

  /** The caller's project's backups (or one volume's), oldest first. */
  async list(caller: Caller, volumeId?: string): Promise<BackupRecord[]> {
    const ids = volumeId ? await this.d.redis.smembers(keys.volumeBackups(volumeId)) : await this.d.redis.smembers(keys.projectBackups(caller.projectId));
    const all = await this.read(ids);
    return all.filter((b) => caller.admin || b.projectId === caller.projectId).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Restores a backup into a new volume (of the backup's volume size; `volumeType` or the default).
   * @returns the new volume (creating; available once the chain is applied)
   */
  async restore(caller: Caller, input: { backupId: string; name: string; volumeType: string }): Promise<VolumeRecord> {
    const b = await this.get(caller, input.backupId);
    return this.d.creation.create(caller, { name: input.name || `restore-${b.id}`, sizeGb: b.volumeSizeGb, volumeType: input.volumeType, availabilityZone: '', backupId: b.id, metadata: { restored_from_backup: b.id } });
  }

  /** Fills `copies` from a backup chain: downloads every object from the full one on, applies the deltas oldest first. */
  private async fill(backupId: string, copies: CopyRef[]): Promise<void> {
    const chain: BackupRecord[] = [];
    for (let id = backupId; id; ) {
      const b = backupHash.fromHash(await this.d.redis.hgetall(keys.backup(id)));
      if (!b) throw new NotFoundError('backup', id);
      chain.unshift(b);
      id = b.parentBackupId;
    }
    const bytesBySha = new Map<string, Buffer>();
    for (const b of chain) {
      const parts: Buffer[] = [];
      for await (const c of this.d.images.download(b.imageId)) parts.push(Buffer.from(c));
      const o = decodeBackup(Buffer.concat(parts));
      for (const [h, bytes] of o.blocks) bytesBySha.set(h, bytes);
    }
    const final = applyDeltas(chain.map((b) => b.delta));
    for (const [i, h] of Object.entries(final)) {
      const bytes = bytesBySha.get(h);
      if (!bytes) throw new FailedPreconditionError(`backup chain of ${backupId} lacks block ${h}`, 'backup_corrupt');
      for (const c of copies) await this.d.blocks.putBlock(c, Number(i), bytes);
    }
  }

  /**
   * Deletes a backup and its image.
   * @throws FailedPreconditionError('backup_has_dependents') while incrementals are based on it
   */
  async delete(caller: Caller, id: string): Promise<void> {
    const b = await this.get(caller, id);
    const n = await this.d.redis.scard(keys.backupChildren(id));
    if (n > 0) throw new FailedPreconditionError(`backup ${id} has ${n} dependent incremental backup(s): delete them first`, 'backup_has_dependents');
    await this.d.images.delete(b.imageId);
    const m = this.d.redis.multi().del(keys.backup(id), keys.backupChildren(id)).srem(keys.projectBackups(b.projectId), id).srem(keys.volumeBackups(b.volumeId), id);
    if (b.parentBackupId) m.srem(keys.backupChildren(b.parentBackupId), id);
    await m.exec();
  }
}
