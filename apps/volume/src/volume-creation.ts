import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { BLOCK_SIZE_BYTES, InvalidVolumeStatusError, isMultiattachType, placeReplicas, qosOf, replicationCountOf, schedulePool, type PoolState, type ReplicaState, type VolumeEvent, type VolumeStatus, type VolumeTypeSpec } from '@minicloud/domain-volume';
import type { Logger } from '@minicloud/platform-logging';
import type { Redis } from '@minicloud/platform-state';
import type { BlockStore, CopyRef } from './block-store';
import type { ImageStore } from './image-store';
import type { KeyedMutex } from './keyed-mutex';
import type { Pools } from './pools';
import { snapshotCopy, snapshotHash, volumeCopy, volumeHash, type SnapshotRecord, type VolumeRecord, type VolumeTypeRecord } from './records';
import { transitionArg, type Caller, type StatusPublisher, type VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import type { Volumes } from './volumes';
import type { VolumeTypes } from './volume-types';
import type { VolumeQuota } from './volume-quota';

/** A create request (CreateVolume, or RestoreBackup with `backupId`). */
export interface CreateVolumeInput {
  name: string;
  sizeGb: number;
  /** '' for the default type. */
  volumeType: string;
  availabilityZone: string;
  imageId?: string;
  snapshotId?: string;
  sourceVolumeId?: string;
  /** Internal: restore of a backup (RestoreBackup). */
  backupId?: string;
  metadata: Record<string, string>;
  /** Cinder's description (at most 255 characters, checked by the input limits). */
  description?: string;
}

/** Fills a new volume's copies from a backup chain (the backups module). */
export type BackupRestorer = (backupId: string, copies: CopyRef[]) => Promise<void>;

/** What {@link VolumeCreation} uses. */
export interface VolumeCreationDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'CREATE_VOLUME' | 'TRANSITION'>;
  locks: KeyedMutex;
  blocks: BlockStore;
  pools: Pools;
  types: Pick<VolumeTypes, 'getOrDefault' | 'specOf'>;
  volumes: Pick<Volumes, 'get' | 'read' | 'readableCopy'>;
  snapshots: { get(caller: Caller, id: string): Promise<SnapshotRecord> };
  images?: ImageStore;
  clock: Clock;
  logger: Logger;
  publish: StatusPublisher;
  /** Simulated backend creation time, ms on `clock`. */
  createDelayMs: number;
  /** Cinder's capacity_weight_multiplier (1 spreads, -1 stacks). */
  capacityWeightMultiplier: number;
  /** The project quota (volumes, gigabytes); none: nothing is limited or counted. */
  quota?: VolumeQuota;
}

const GIB = 1024 ** 3;

/**
 * Cinder's create flow: validates the source, schedules pool(s) and claims capacity atomically,
 * stores the volume in creating, and `createDelayMs` later on the injected clock fills its copies
 * (from an image, snapshot, volume or backup) and makes it available, or error with the fault. The
 * resync finishes volumes a restart left in creating ({@link isPending} tells them apart).
 */
export class VolumeCreation {
  private readonly timers = new Map<string, TimerHandle>();
  private restorer?: BackupRestorer;

  constructor(private readonly d: VolumeCreationDeps) {}

  /** Lets the backups module fill volumes restored from a backup. */
  setBackupRestorer(r: BackupRestorer): void {
    this.restorer = r;
  }

  /**
   * Schedules pool(s) — one, or `replication_count` pools on distinct storage nodes — and claims
   * `sizeGb` on each atomically (a single-copy volume falls back to the alternates when a concurrent
   * claim took the room), then stores the volume in status creating. The project's quota (one volume,
   * `sizeGb` gigabytes) is reserved first, committed once the volume is stored, rolled back otherwise.
   * @throws InvalidArgumentError('size_gb') (also when smaller than the image's virtual size or the
   *   source's size), InvalidArgumentError('image_id') for an image not active,
   *   NotFoundError('volume_type' | 'snapshot' | 'volume' | 'image'), ResourceExhaustedError naming the pool(s),
   *   or from identity when the project is over its volumes or gigabytes quota
   */
  async create(caller: Caller, input: CreateVolumeInput): Promise<VolumeRecord> {
    if (!Number.isInteger(input.sizeGb) || input.sizeGb <= 0) throw new InvalidArgumentError('size_gb', 'must be a positive number of GB');
    const type = await this.d.types.getOrDefault(input.volumeType);
    await this.checkSource(caller, input);
    const quota = this.d.quota;
    const reservationId = await quota?.reserve(caller.projectId, { volumes: 1, gigabytes: input.sizeGb });
    let made: VolumeRecord;
    try {
      made = await this.place(caller, input, type);
    } catch (e) {
      if (reservationId) await quota!.rollback(reservationId);
      throw e;
    }
    if (reservationId) {
      // Stored and scheduled: a commit that fails leaves usage low until identity's reservation expires, never a volume lost.
      await quota!.commit(reservationId).catch((e) => this.d.logger.warn({ err: e, volume_id: made.id }, 'committing the volume quota reservation failed'));
    }
    return made;
  }

  private async place(caller: Caller, input: CreateVolumeInput, type: VolumeTypeRecord): Promise<VolumeRecord> {
    const spec: VolumeTypeSpec = await this.d.types.specOf(type);
    const count = replicationCountOf(spec);
    const base = {
      id: randomUUID(),
      name: input.name,
      projectId: caller.projectId,
      status: 'creating' as VolumeStatus,
      sizeGb: input.sizeGb,
      volumeType: type.name,
      availabilityZone: input.availabilityZone || 'nova',
      bootable: !!input.imageId,
      multiattach: isMultiattachType(spec),
      sourceImageId: input.imageId ?? '',
      sourceSnapshotId: input.snapshotId ?? '',
      sourceVolumeId: input.sourceVolumeId ?? '',
      sourceBackupId: input.backupId ?? '',
      metadata: input.metadata,
      createdAtMs: this.d.clock.nowMs(),
      replicationCount: count,
      qos: qosOf(spec),
      fault: '',
      description: input.description ?? '',
      userId: caller.userId ?? '',
      updatedAtMs: 0,
      readOnly: null,
      quotaAccounted: !!this.d.quota,
    };
    const req = { sizeGb: input.sizeGb, volumeType: spec };
    const wm = { capacityWeightMultiplier: this.d.capacityWeightMultiplier };
    const placements: PoolState[][] = [];
    if (count === 1) {
      const sel = schedulePool(await this.d.pools.list(), req, wm);
      placements.push(...[sel.pool, ...sel.alternates].map((p) => [p]));
    } else {
      placements.push(placeReplicas(await this.d.pools.list(), req, count, wm));
    }
    const full: string[] = [];
    for (const pools of placements) {
      const replicas: ReplicaState[] = pools.map((p) => ({ pool: p.name, storageNode: p.storageNode, state: 'ok' }));
      const vol: VolumeRecord = { ...base, pool: pools[0]!.name, replicas };
      const res = (await this.d.scripts.CREATE_VOLUME(
        [keys.volume(vol.id), keys.projectVolumes(vol.projectId), keys.allVolumes(), ...pools.map((p) => keys.pool(p.name))],
        [vol.sizeGb, vol.id, pools.length, ...pools.map((p) => this.d.pools.limitOf(p.name)), ...volumeHash.toHash(vol)],
      )) as number[];
      if (res[0] === 1) {
        await this.d.publish({ volumeId: vol.id, projectId: vol.projectId, status: 'creating' });
        this.schedule(vol.id);
        return vol;
      }
      const fullPool = pools[res[1]! - 1]!.name;
      full.push(`${fullPool}: needs ${vol.sizeGb} GB, ${res[2]} GB of ${this.d.pools.limitOf(fullPool)} GB provisioned`);
    }
    throw new ResourceExhaustedError(`No valid backend: pool full (${full.join('; ')})`, 'pool_full');
  }

  /** The snapshot, source volume or image exists, is usable and fits in `sizeGb`. */
  private async checkSource(caller: Caller, input: CreateVolumeInput): Promise<void> {
    if (input.snapshotId) {
      const snap = await this.d.snapshots.get(caller, input.snapshotId);
      if (input.sizeGb < snap.sizeGb) throw new InvalidArgumentError('size_gb', `must be at least the snapshot's ${snap.sizeGb} GB`);
    }
    if (input.sourceVolumeId) {
      const src = await this.d.volumes.get(caller, input.sourceVolumeId);
      // Cinder clones only settled volumes; this also rules out clone cycles between volumes being created.
      if (src.status !== 'available' && src.status !== 'in-use') throw new InvalidVolumeStatusError(src.status, 'clone');
      if (input.sizeGb < src.sizeGb) throw new InvalidArgumentError('size_gb', `must be at least the source volume's ${src.sizeGb} GB`);
    }
    if (input.imageId) {
      const img = await this.imageStore().getImage(input.imageId, caller.token);
      if (!img.active) throw new InvalidArgumentError('image_id', `image ${input.imageId} is not active`);
      if (img.virtualSizeBytes > input.sizeGb * GIB) throw new InvalidArgumentError('size_gb', `must be at least the image's virtual size (${Math.ceil(img.virtualSizeBytes / GIB)} GB)`);
    }
  }

  private imageStore(): ImageStore {
    if (!this.d.images) throw new FailedPreconditionError('the image service is not configured', 'no_image_service');
    return this.d.images;
  }

  private schedule(volumeId: string): void {
    const timer = this.d.clock.setTimeout(() => {
      this.timers.delete(volumeId);
      this.finish(volumeId).catch((e) => this.d.logger.error({ err: e, volume_id: volumeId }, 'finishing volume creation failed'));
    }, this.d.createDelayMs);
    this.timers.set(volumeId, timer);
  }

  /** Whether this process still has the volume's creation timer (the resync leaves those alone). */
  isPending(volumeId: string): boolean {
    return this.timers.has(volumeId);
  }

  /**
   * The simulated backend is done: fills every copy from the source (image bytes, snapshot, source
   * volume or backup), then creating -> available; a failure -> error with the fault recorded.
   * Idempotent (copies are rebuilt from scratch) and a no-op when the volume is no longer creating.
   */
  async finish(volumeId: string): Promise<void> {
    await this.d.locks.run(volumeId, async () => {
      const v = await this.d.volumes.read(volumeId);
      if (!v || v.status !== 'creating') return;
      let event: VolumeEvent = 'create_succeeded';
      try {
        await this.populate(v);
      } catch (e) {
        event = 'create_failed';
        this.d.logger.warn({ err: e, volume_id: volumeId }, 'filling the new volume failed');
        await this.d.redis.hset(keys.volume(volumeId), 'fault', (e as Error).message);
        for (const r of v.replicas) await this.d.blocks.dropCopy(volumeCopy(v.id, r));
      }
      const res = (await this.d.scripts.TRANSITION([keys.volume(volumeId)], [transitionArg(event)])) as [number, string, string];
      if (res[0] === 1) await this.d.publish({ volumeId, projectId: v.projectId, status: res[2] });
    });
  }

  private async populate(v: VolumeRecord): Promise<void> {
    const copies = v.replicas.filter((r) => r.state === 'ok').map((r) => volumeCopy(v.id, r));
    for (const c of copies) await this.d.blocks.dropCopy(c);
    if (v.sourceImageId) {
      await this.fillFromImage(v, copies);
    } else if (v.sourceSnapshotId) {
      const snap = snapshotHash.fromHash(await this.d.redis.hgetall(keys.snapshot(v.sourceSnapshotId)));
      if (!snap) throw new NotFoundError('snapshot', v.sourceSnapshotId);
      const up = await this.d.pools.upNames();
      const src = snap.copies.find((c) => up.has(c.pool));
      if (!src) throw new FailedPreconditionError(`snapshot ${snap.id} has no reachable copy`, 'no_reachable_copy');
      for (const c of copies) await this.d.blocks.copy(snapshotCopy(snap.id, src), c);
    } else if (v.sourceVolumeId) {
      await this.d.locks.run(v.sourceVolumeId, async () => {
        const src = await this.d.volumes.read(v.sourceVolumeId);
        if (!src) throw new NotFoundError('volume', v.sourceVolumeId);
        const from = await this.d.volumes.readableCopy(src);
        for (const c of copies) await this.d.blocks.copy(from, c);
      });
    } else if (v.sourceBackupId) {
      if (!this.restorer) throw new FailedPreconditionError('backups are not configured', 'no_backup_service');
      await this.restorer(v.sourceBackupId, copies);
    }
  }

  /** Streams the image's bytes into `copies`, block by block. @throws InvalidArgumentError('size_gb') when the image is larger than the volume */
  private async fillFromImage(v: VolumeRecord, copies: CopyRef[]): Promise<void> {
    const images = this.imageStore();
    let offset = 0;
    let pending = Buffer.alloc(0);
    const flush = async (final: boolean) => {
      while (pending.length >= BLOCK_SIZE_BYTES || (final && pending.length > 0)) {
        const block = pending.subarray(0, BLOCK_SIZE_BYTES);
        if (offset + block.length > v.sizeGb * GIB) throw new InvalidArgumentError('size_gb', `image ${v.sourceImageId} is larger than the volume`);
        await this.d.blocks.write(copies, offset, Buffer.from(block));
        offset += block.length;
        pending = pending.subarray(block.length);
      }
    };
    for await (const chunk of images.download(v.sourceImageId)) {
      pending = Buffer.concat([pending, Buffer.from(chunk)]);
      await flush(false);
    }
    await flush(true);
  }

  /** Cancels pending creation timers (shutdown). Volumes left in creating are finished by the resync. */
  stop(): void {
    for (const t of this.timers.values()) this.d.clock.clearTimeout(t);
    this.timers.clear();
  }
}
