import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { InvalidVolumeStatusError } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import type { BlockStore } from './block-store';
import type { KeyedMutex } from './keyed-mutex';
import type { Pools } from './pools';
import { snapshotCopy, snapshotHash, volumeCopy, type SnapshotRecord } from './records';
import { transitionArg, visibleTo, type Caller, type VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import { MAX_METADATA_ITEMS, type Volumes } from './volumes';

/** What {@link Snapshots} uses. */
export interface SnapshotsDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'CREATE_SNAPSHOT' | 'DELETE_SNAPSHOT' | 'UPDATE_VOLUME'>;
  volumes: Pick<Volumes, 'get' | 'read'>;
  pools: Pick<Pools, 'limitOf' | 'upNames'>;
  blocks: BlockStore;
  locks: KeyedMutex;
  clock: Clock;
}

/** Volume snapshots: copy-on-write clones of a volume's copies whose size counts on the volume's pool. */
export class Snapshots {
  constructor(private readonly d: SnapshotsDeps) {}

  /**
   * Snapshots a volume (available; in-use needs `force`), counting its size on the volume's pool; the
   * snapshot's copies are copy-on-write clones of the volume's reachable copies (no bytes copied).
   * @throws InvalidVolumeStatusError naming the status, ResourceExhaustedError naming the pool
   */
  async create(caller: Caller, input: { volumeId: string; name: string; force: boolean; description?: string; metadata?: Record<string, string> }): Promise<SnapshotRecord> {
    const metadata = input.metadata ?? {};
    if (Object.keys(metadata).length > MAX_METADATA_ITEMS) throw new InvalidArgumentError('metadata', `has more than ${MAX_METADATA_ITEMS} items`);
    const v = await this.d.volumes.get(caller, input.volumeId);
    return this.d.locks.run(v.id, async () => {
      const cur = (await this.d.volumes.read(v.id)) ?? v;
      const snap = { id: randomUUID(), volumeId: v.id, projectId: v.projectId, name: input.name, status: 'available', pool: cur.pool, createdAtMs: this.d.clock.nowMs(), description: input.description ?? '', metadata, updatedAtMs: 0 };
      const limit = this.d.pools.limitOf(cur.pool);
      const res = (await this.d.scripts.CREATE_SNAPSHOT(
        [keys.volume(v.id), keys.pool(cur.pool), keys.snapshot(snap.id), keys.volumeSnapshots(v.id), keys.projectSnapshots(v.projectId)],
        [transitionArg(input.force ? 'forced_snapshot_allowed' : 'snapshot_allowed'), limit, snap.id, ...snapshotHash.toHash(snap)],
      )) as [number, string | number, number?];
      if (res[0] === -1) throw new NotFoundError('volume', v.id);
      if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), res[1] === 'in-use' ? 'snapshot without force' : 'snapshot');
      if (res[0] === 3) throw new ResourceExhaustedError(`pool ${cur.pool} full: snapshot needs ${res[2]} GB, ${res[1]} GB of ${limit} GB provisioned`, 'pool_full');
      const up = await this.d.pools.upNames();
      const copies = cur.replicas.filter((r) => r.state === 'ok' && up.has(r.pool)).map((r) => ({ pool: r.pool, storageNode: r.storageNode }));
      for (const c of copies) await this.d.blocks.copy(volumeCopy(v.id, c), snapshotCopy(snap.id, c));
      await this.d.redis.hset(keys.snapshot(snap.id), 'copies', JSON.stringify(copies));
      return { ...snap, sizeGb: Number(res[1]), copies };
    });
  }

  /** @throws InvalidArgumentError('snapshot_id') when empty, NotFoundError('snapshot') also for another project's */
  async get(caller: Caller, id: string): Promise<SnapshotRecord> {
    return visibleTo(caller, 'snapshot', id, id ? snapshotHash.fromHash(await this.d.redis.hgetall(keys.snapshot(id))) : undefined);
  }

  /** The caller's project's snapshots, or one volume's, oldest first. */
  async list(caller: Caller, volumeId?: string): Promise<SnapshotRecord[]> {
    const ids = volumeId ? await this.d.redis.smembers(keys.volumeSnapshots((await this.d.volumes.get(caller, volumeId)).id)) : await this.d.redis.smembers(keys.projectSnapshots(caller.projectId));
    const all = await Promise.all(ids.map(async (id) => snapshotHash.fromHash(await this.d.redis.hgetall(keys.snapshot(id)))));
    return all.filter((s): s is SnapshotRecord => !!s).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /**
   * Renames, describes and changes the metadata of a snapshot in one atomic step (any status but
   * deleting), as {@link Volumes.update} does for volumes; the update time is set.
   * @throws NotFoundError (also another project's), InvalidArgumentError('name' | 'description') over 255
   *   characters, InvalidArgumentError('metadata') over {@link MAX_METADATA_ITEMS} items
   */
  async update(caller: Caller, id: string, patch: { name?: string; description?: string; setMetadata: Record<string, string>; removeMetadata: string[] }): Promise<SnapshotRecord> {
    if (patch.name !== undefined && patch.name.length > 255) throw new InvalidArgumentError('name', 'is longer than 255 characters');
    if (patch.description !== undefined && patch.description.length > 255) throw new InvalidArgumentError('description', 'is longer than 255 characters');
    await this.get(caller, id);
    const fields: Record<string, string> = { updated_at_ms: String(this.d.clock.nowMs()) };
    if (patch.name !== undefined) fields.name = patch.name;
    if (patch.description !== undefined) fields.description = patch.description;
    const res = (await this.d.scripts.UPDATE_VOLUME([keys.snapshot(id)], [JSON.stringify(fields), JSON.stringify(patch.removeMetadata), JSON.stringify(patch.setMetadata), MAX_METADATA_ITEMS])) as [number, string | number];
    if (res[0] === -1) throw new NotFoundError('snapshot', id);
    if (res[0] === 0) throw new FailedPreconditionError(`snapshot ${id} is ${res[1]}`, 'snapshot_deleting');
    if (res[0] === 2) throw new InvalidArgumentError('metadata', `would hold ${res[1]} items, more than ${MAX_METADATA_ITEMS}`);
    return this.get(caller, id);
  }

  /** Deletes a snapshot: drops its copies and releases its pool capacity. */
  async delete(caller: Caller, id: string): Promise<void> {
    const s = await this.get(caller, id);
    await this.d.locks.run(s.volumeId, async () => {
      for (const c of s.copies) await this.d.blocks.dropCopy(snapshotCopy(id, c));
      const res = (await this.d.scripts.DELETE_SNAPSHOT([keys.snapshot(id), keys.pool(s.pool), keys.volumeSnapshots(s.volumeId), keys.projectSnapshots(s.projectId)], [id])) as number[];
      if (res[0] === -1) throw new NotFoundError('snapshot', id);
    });
  }
}
