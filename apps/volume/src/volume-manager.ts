import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { AlreadyExistsError, ConflictError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import {
  BLOCK_SIZE_BYTES,
  InvalidVolumeStatusError,
  backendOf,
  checkIoRange,
  isMultiattachType,
  maxProvisionedCapacityGb,
  placeReplicas,
  poolServesType,
  qosOf,
  replicationCountOf,
  replicationStatusOf,
  schedulePool,
  transitionsOf,
  validateExtraSpecs,
  type PoolState,
  type ReplicaState,
  type VolumeEvent,
  type VolumeStatus,
  type VolumeTypeSpec,
} from '@minicloud/domain-volume';
import { defineLuaScript, keyspace, type LuaScript, type Redis } from '@minicloud/platform-state';
import type { Logger } from '@minicloud/platform-logging';
import { BlockStore, type CopyRef } from './block-store';
import type { PoolConfig } from './config';
import type { ImageStore } from './image-store';
import { KeyedMutex } from './keyed-mutex';
import * as lua from './lua-scripts';
import {
  attachmentFromHash,
  attachmentToHash,
  snapshotCopy,
  snapshotFromHash,
  snapshotToHash,
  volumeCopy,
  volumeFromHash,
  volumeToHash,
  type AttachmentRecord,
  type SnapshotRecord,
  type VolumeRecord,
  type VolumeTypeRecord,
} from './records';

/** Who calls: project scoping as OpenStack does it (admins see every project); `token` is the caller's bearer token. */
export interface Caller {
  projectId: string;
  admin: boolean;
  token?: string;
}

/** Publishes a volume status change (events are hints; failures are logged, not raised). */
export type StatusPublisher = (v: { volumeId: string; projectId: string; status: string; instanceId?: string }) => Promise<void>;

/** Counters the manager bumps (metrics adapter). */
export interface VolumeCounters {
  replicaLost(pool: string): void;
  replicaRepaired(pool: string): void;
}

export interface CreateVolumeInput {
  name: string;
  sizeGb: number;
  volumeType: string;
  availabilityZone: string;
  imageId?: string;
  snapshotId?: string;
  sourceVolumeId?: string;
  /** Internal: restore of a backup (RestoreBackup). */
  backupId?: string;
  metadata: Record<string, string>;
}

/** Fills a new volume's copies from a backup chain (the backup manager). */
export type BackupRestorer = (backupId: string, copies: CopyRef[]) => Promise<void>;

const k = keyspace('volume');
/** Redis keys of the volume service (all under `mc:volume:`). */
export const keys = {
  pool: (name: string) => k('pool', name),
  types: () => k('types'),
  volume: (id: string) => k('volume', id),
  volumeAttachments: (id: string) => k('volume', id, 'attachments'),
  volumeInstances: (id: string) => k('volume', id, 'instances'),
  volumeSnapshots: (id: string) => k('volume', id, 'snapshots'),
  projectVolumes: (projectId: string) => k('project', projectId, 'volumes'),
  projectSnapshots: (projectId: string) => k('project', projectId, 'snapshots'),
  allVolumes: () => k('volumes'),
  attachment: (id: string) => k('attachment', id),
  instanceAttachments: (instanceId: string) => k('instance', instanceId, 'attachments'),
  hostAttachments: (hostId: string) => k('host', hostId, 'attachments'),
  snapshot: (id: string) => k('snapshot', id),
};

const json = (event: VolumeEvent) => JSON.stringify(transitionsOf(event));
const GIB = 1024 ** 3;
/** Statuses in which guest I/O (WriteVolume/ReadVolume) is served. */
const IO_STATUSES: readonly VolumeStatus[] = ['available', 'attaching', 'in-use', 'detaching'];

/**
 * The Cinder volume manager: pools and types from config, volumes, attachments and snapshots in Redis,
 * every status change one Lua script (so concurrent calls never leave a volume in-use without an
 * attachment, attached twice, or a pool over its capacity). Data lives in the simulated
 * {@link BlockStore}, one copy per replica pool. Creation completes `createDelayMs` later on the
 * injected clock (after the data is filled from an image, snapshot, volume or backup); the periodic
 * {@link resync} finishes volumes a restart left in creating/deleting and repairs lost copies.
 */
export class VolumeManager {
  private readonly scripts: Record<keyof typeof lua, LuaScript>;
  private readonly timers = new Map<string, TimerHandle>();
  readonly blocks: BlockStore;
  readonly locks = new KeyedMutex();
  private restorer?: BackupRestorer;

  constructor(
    private readonly redis: Redis,
    private readonly opts: {
      pools: PoolConfig[];
      defaultVolumeType: string;
      createDelayMs: number;
      capacityWeightMultiplier: number;
      clock: Clock;
      publish: StatusPublisher;
      logger: Logger;
      images?: ImageStore;
      counters?: VolumeCounters;
      /** Volume types seeded at start: name -> extra specs (existing ones are kept). */
      seedTypes?: Record<string, Record<string, string>>;
    },
  ) {
    this.scripts = Object.fromEntries(Object.entries(lua).map(([name, src]) => [name, defineLuaScript(redis, src)])) as never;
    this.blocks = new BlockStore(redis);
  }

  /** Lets the backup manager fill volumes restored from a backup. */
  setBackupRestorer(r: BackupRestorer): void {
    this.restorer = r;
  }

  /** Seeds the volume types the pools name, the default type and `seedTypes` (existing ones are kept). */
  async seedVolumeTypes(): Promise<void> {
    const seeded = this.opts.seedTypes ?? {};
    const names = new Set([this.opts.defaultVolumeType, ...this.opts.pools.flatMap((p) => p.volume_types), ...Object.keys(seeded)]);
    for (const name of names) {
      const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs: seeded[name] ?? {}, isPublic: true };
      await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec));
    }
  }

  // ---- volume types and pools ----

  /**
   * @throws InvalidArgumentError('name') when empty, ('extra_specs.<key>') for a bad QoS value or
   *   replication_count, AlreadyExistsError when the name is taken
   */
  async createVolumeType(name: string, extraSpecs: Record<string, string>): Promise<VolumeTypeRecord> {
    if (!name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
    validateExtraSpecs({ name, extraSpecs });
    const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs, isPublic: true };
    if (!(await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec)))) throw new AlreadyExistsError('volume_type', name);
    return rec;
  }

  async listVolumeTypes(): Promise<VolumeTypeRecord[]> {
    const all = await this.redis.hvals(keys.types());
    return all.map((s) => JSON.parse(s) as VolumeTypeRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** @throws NotFoundError('volume_type', name) */
  async getVolumeType(name: string): Promise<VolumeTypeRecord> {
    const s = await this.redis.hget(keys.types(), name);
    if (!s) throw new NotFoundError('volume_type', name);
    return JSON.parse(s) as VolumeTypeRecord;
  }

  /** The pools with their provisioned capacity and up/down state read from Redis. */
  async listPools(): Promise<PoolState[]> {
    const rows = await Promise.all(this.opts.pools.map((p) => this.redis.hmget(keys.pool(p.name), 'provisioned_gb', 'up')));
    return this.opts.pools.map((p, i) => ({ ...this.poolConfig(p.name), provisionedCapacityGb: Number(rows[i]![0] ?? 0), up: rows[i]![1] !== '0' }));
  }

  private poolConfig(name: string): PoolState {
    const p = this.opts.pools.find((x) => x.name === name);
    if (!p) throw new InternalError(`pool ${name} is not configured`);
    return { name: p.name, backend: backendOf(p.name), storageNode: p.storage_node, totalCapacityGb: p.total_capacity_gb, provisionedCapacityGb: 0, maxOverSubscriptionRatio: p.max_over_subscription_ratio, reservedPercentage: p.reserved_percentage, thinProvisioningSupport: p.thin_provisioning_support, volumeTypes: p.volume_types, up: true };
  }

  private limitOf(poolName: string): number {
    return maxProvisionedCapacityGb(this.poolConfig(poolName));
  }

  /** Names of the pools currently up. */
  private async upPools(): Promise<Set<string>> {
    return new Set((await this.listPools()).filter((p) => p.up).map((p) => p.name));
  }

  // ---- volumes ----

  /**
   * Schedules pool(s) — one, or `replication_count` pools on distinct storage nodes — and claims
   * `sizeGb` on each atomically (a single-copy volume falls back to the alternates when a concurrent
   * claim took the room), then stores the volume in status creating.
   * @throws InvalidArgumentError('size_gb') (also when smaller than the image's virtual size or the
   *   source's size), InvalidArgumentError('image_id') for an image not active,
   *   NotFoundError('volume_type' | 'snapshot' | 'volume' | 'image'), ResourceExhaustedError naming the pool(s)
   */
  async createVolume(caller: Caller, input: CreateVolumeInput): Promise<VolumeRecord> {
    if (!Number.isInteger(input.sizeGb) || input.sizeGb <= 0) throw new InvalidArgumentError('size_gb', 'must be a positive number of GB');
    const type = await this.getVolumeType(input.volumeType || this.opts.defaultVolumeType);
    if (input.snapshotId) {
      const snap = await this.getSnapshot(caller, input.snapshotId);
      if (input.sizeGb < snap.sizeGb) throw new InvalidArgumentError('size_gb', `must be at least the snapshot's ${snap.sizeGb} GB`);
    }
    if (input.sourceVolumeId) {
      const src = await this.getVolume(caller, input.sourceVolumeId);
      // Cinder clones only settled volumes; this also rules out clone cycles between volumes being created.
      if (src.status !== 'available' && src.status !== 'in-use') throw new InvalidVolumeStatusError(src.status, 'clone');
      if (input.sizeGb < src.sizeGb) throw new InvalidArgumentError('size_gb', `must be at least the source volume's ${src.sizeGb} GB`);
    }
    if (input.imageId) {
      if (!this.opts.images) throw new FailedPreconditionError('the image service is not configured', 'no_image_service');
      const img = await this.opts.images.getImage(input.imageId, caller.token);
      if (!img.active) throw new InvalidArgumentError('image_id', `image ${input.imageId} is not active`);
      if (img.virtualSizeBytes > input.sizeGb * GIB) throw new InvalidArgumentError('size_gb', `must be at least the image's virtual size (${Math.ceil(img.virtualSizeBytes / GIB)} GB)`);
    }
    const spec: VolumeTypeSpec = { name: type.name, extraSpecs: type.extraSpecs };
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
      createdAtMs: this.opts.clock.nowMs(),
      replicationCount: count,
      qos: qosOf(spec),
      fault: '',
    };
    const req = { sizeGb: input.sizeGb, volumeType: spec };
    const wm = { capacityWeightMultiplier: this.opts.capacityWeightMultiplier };
    const placements: PoolState[][] = [];
    if (count === 1) {
      const sel = schedulePool(await this.listPools(), req, wm);
      placements.push(...[sel.pool, ...sel.alternates].map((p) => [p]));
    } else {
      placements.push(placeReplicas(await this.listPools(), req, count, wm));
    }
    const full: string[] = [];
    for (let attempt = 0; attempt < placements.length; attempt++) {
      const pools = placements[attempt]!;
      const replicas: ReplicaState[] = pools.map((p) => ({ pool: p.name, storageNode: p.storageNode, state: 'ok' }));
      const vol: VolumeRecord = { ...base, pool: pools[0]!.name, replicas };
      const res = (await this.scripts.CREATE_VOLUME(
        [keys.volume(vol.id), keys.projectVolumes(vol.projectId), keys.allVolumes(), ...pools.map((p) => keys.pool(p.name))],
        [vol.sizeGb, vol.id, pools.length, ...pools.map((p) => this.limitOf(p.name)), ...volumeToHash(vol)],
      )) as number[];
      if (res[0] === 1) {
        await this.opts.publish({ volumeId: vol.id, projectId: vol.projectId, status: 'creating' });
        this.scheduleCreation(vol.id);
        return vol;
      }
      const fullPool = pools[res[1]! - 1]!.name;
      full.push(`${fullPool}: needs ${vol.sizeGb} GB, ${res[2]} GB of ${this.limitOf(fullPool)} GB provisioned`);
    }
    throw new ResourceExhaustedError(`No valid backend: pool full (${full.join('; ')})`, 'pool_full');
  }

  private scheduleCreation(volumeId: string): void {
    const timer = this.opts.clock.setTimeout(() => {
      this.timers.delete(volumeId);
      this.finishCreation(volumeId).catch((e) => this.opts.logger.error({ err: e, volume_id: volumeId }, 'finishing volume creation failed'));
    }, this.opts.createDelayMs);
    this.timers.set(volumeId, timer);
  }

  /**
   * The simulated backend is done: fills every copy from the source (image bytes, snapshot, source
   * volume or backup), then creating -> available; a failure -> error with the fault recorded.
   * Idempotent (copies are rebuilt from scratch) and a no-op when the volume is no longer creating.
   */
  async finishCreation(volumeId: string): Promise<void> {
    await this.locks.run(volumeId, async () => {
      const v = await this.readVolume(volumeId);
      if (!v || v.status !== 'creating') return;
      let event: VolumeEvent = 'create_succeeded';
      try {
        await this.populate(v);
      } catch (e) {
        event = 'create_failed';
        this.opts.logger.warn({ err: e, volume_id: volumeId }, 'filling the new volume failed');
        await this.redis.hset(keys.volume(volumeId), 'fault', (e as Error).message);
        for (const r of v.replicas) await this.blocks.dropCopy(volumeCopy(v.id, r));
      }
      const res = (await this.scripts.TRANSITION([keys.volume(volumeId)], [json(event)])) as [number, string, string];
      if (res[0] === 1) await this.opts.publish({ volumeId, projectId: v.projectId, status: res[2] });
    });
  }

  private async populate(v: VolumeRecord): Promise<void> {
    const copies = v.replicas.filter((r) => r.state === 'ok').map((r) => volumeCopy(v.id, r));
    for (const c of copies) await this.blocks.dropCopy(c);
    if (v.sourceImageId) {
      if (!this.opts.images) throw new FailedPreconditionError('the image service is not configured', 'no_image_service');
      let offset = 0;
      let pending = Buffer.alloc(0);
      const flush = async (final: boolean) => {
        while (pending.length >= BLOCK_SIZE_BYTES || (final && pending.length > 0)) {
          const block = pending.subarray(0, BLOCK_SIZE_BYTES);
          if (offset + block.length > v.sizeGb * GIB) throw new InvalidArgumentError('size_gb', `image ${v.sourceImageId} is larger than the volume`);
          await this.blocks.write(copies, offset, Buffer.from(block));
          offset += block.length;
          pending = pending.subarray(block.length);
        }
      };
      for await (const chunk of this.opts.images.download(v.sourceImageId)) {
        pending = Buffer.concat([pending, Buffer.from(chunk)]);
        await flush(false);
      }
      await flush(true);
    } else if (v.sourceSnapshotId) {
      const snap = snapshotFromHash(await this.redis.hgetall(keys.snapshot(v.sourceSnapshotId)));
      if (!snap) throw new NotFoundError('snapshot', v.sourceSnapshotId);
      const up = await this.upPools();
      const src = snap.copies.find((c) => up.has(c.pool));
      if (!src) throw new FailedPreconditionError(`snapshot ${snap.id} has no reachable copy`, 'no_reachable_copy');
      for (const c of copies) await this.blocks.copy(snapshotCopy(snap.id, src), c);
    } else if (v.sourceVolumeId) {
      await this.locks.run(v.sourceVolumeId, async () => {
        const src = await this.readVolume(v.sourceVolumeId);
        if (!src) throw new NotFoundError('volume', v.sourceVolumeId);
        const from = await this.readableCopy(src);
        for (const c of copies) await this.blocks.copy(from, c);
      });
    } else if (v.sourceBackupId) {
      if (!this.restorer) throw new FailedPreconditionError('backups are not configured', 'no_backup_service');
      await this.restorer(v.sourceBackupId, copies);
    }
  }

  /** Cancels pending creation timers (shutdown). Volumes left in creating are finished by {@link resync}. */
  stop(): void {
    for (const t of this.timers.values()) this.opts.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** Reads a volume record by id (no project check). */
  async readVolume(id: string): Promise<VolumeRecord | undefined> {
    return volumeFromHash(await this.redis.hgetall(keys.volume(id)));
  }

  /** @throws InvalidArgumentError('volume_id') when empty, NotFoundError('volume') also for another project's */
  async getVolume(caller: Caller, id: string): Promise<VolumeRecord> {
    if (!id) throw new InvalidArgumentError('volume_id', 'must not be empty');
    const v = await this.readVolume(id);
    if (!v || (!caller.admin && v.projectId !== caller.projectId)) throw new NotFoundError('volume', id);
    return v;
  }

  /** The caller's project's volumes (every project's for an admin), oldest first. */
  async listVolumes(caller: Caller, status?: VolumeStatus): Promise<VolumeRecord[]> {
    const ids = await this.redis.smembers(caller.admin ? keys.allVolumes() : keys.projectVolumes(caller.projectId));
    const vols = (await Promise.all(ids.map((id) => this.readVolume(id)))).filter((v): v is VolumeRecord => !!v);
    return vols.filter((v) => !status || v.status === status).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Replication status of a volume: disabled | enabled | degraded | error. */
  replicationStatus(v: VolumeRecord): string {
    return replicationStatusOf(v.replicas, v.replicationCount);
  }

  /** Bytes actually written (mapped blocks x block size) on the first reachable copy; 0 when none. */
  async allocatedBytes(v: VolumeRecord): Promise<number> {
    const r = v.replicas.find((x) => x.state === 'ok');
    return r ? (await this.blocks.blockCount(volumeCopy(v.id, r))) * BLOCK_SIZE_BYTES : 0;
  }

  /**
   * Deletes a volume (available, error, error_deleting) without snapshots or attachments: deleting,
   * its copies dropped, then its pool capacity released and every key removed.
   * @throws FailedPreconditionError naming the status, or the snapshot/attachment count
   */
  async deleteVolume(caller: Caller, id: string): Promise<void> {
    const v = await this.getVolume(caller, id);
    const res = (await this.scripts.DELETE_VOLUME([keys.volume(id), keys.volumeAttachments(id), keys.volumeSnapshots(id)], [json('delete_started')])) as [number, string | number];
    if (res[0] === -1) throw new NotFoundError('volume', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'delete');
    if (res[0] === 2) throw new FailedPreconditionError(`volume ${id} has ${res[1]} snapshot(s): delete them first`, 'volume_has_snapshots');
    if (res[0] === 3) throw new FailedPreconditionError(`volume ${id} has ${res[1]} attachment(s)`, 'volume_attached');
    await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'deleting' });
    await this.finishDeletion(id);
  }

  /** Second phase of a delete (also run by {@link resync}): drops the copies, releases capacity, removes the keys. */
  async finishDeletion(id: string): Promise<void> {
    await this.locks.run(id, async () => {
      const v = await this.readVolume(id);
      if (!v || v.status !== 'deleting') return;
      for (const r of v.replicas) await this.blocks.dropCopy(volumeCopy(id, r));
      const res = (await this.scripts.FINISH_DELETE(
        [keys.volume(id), keys.volumeAttachments(id), keys.volumeInstances(id), keys.volumeSnapshots(id), keys.projectVolumes(v.projectId), keys.allVolumes(), ...v.replicas.map((r) => keys.pool(r.pool))],
        [id],
      )) as number[];
      if (res[0] === 1) await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'deleted' });
    });
  }

  /**
   * Grows an available volume, claiming the delta on the pool of every copy: available -> extending -> available.
   * @throws InvalidArgumentError('new_size_gb') when not larger, InvalidVolumeStatusError, ResourceExhaustedError naming the pool
   */
  async extendVolume(caller: Caller, id: string, newSizeGb: number): Promise<VolumeRecord> {
    const v = await this.getVolume(caller, id);
    if (!Number.isInteger(newSizeGb) || newSizeGb <= 0) throw new InvalidArgumentError('new_size_gb', 'must be a positive number of GB');
    await this.locks.run(id, async () => {
      const cur = (await this.readVolume(id)) ?? v;
      const pools = cur.replicas.map((r) => r.pool);
      const res = (await this.scripts.EXTEND_VOLUME([keys.volume(id), ...pools.map((p) => keys.pool(p))], [json('extend_started'), newSizeGb, ...pools.map((p) => this.limitOf(p))])) as [number, string | number, number?];
      if (res[0] === -1) throw new NotFoundError('volume', id);
      if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'extend');
      if (res[0] === 2) throw new InvalidArgumentError('new_size_gb', `must be larger than the current ${res[1]} GB`);
      if (res[0] === 3) {
        const pool = pools[res[2]! - 1]!;
        throw new ResourceExhaustedError(`pool ${pool} full: needs ${newSizeGb - cur.sizeGb} GB more, ${res[1]} GB of ${this.limitOf(pool)} GB provisioned`, 'pool_full');
      }
      await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'extending' });
      const done = (await this.scripts.TRANSITION([keys.volume(id)], [json('extend_succeeded')])) as number[];
      if (done[0] === 1) await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'available' });
    });
    return this.getVolume(caller, id);
  }

  /**
   * Changes an available volume's type. When the copies' pools serve the new type (and the copy count
   * is unchanged) only the type, QoS and multiattach change; otherwise the volume is migrated
   * (Cinder's migration_policy on-demand): new pools claimed, data copied, old copies dropped and
   * their capacity released. available -> retyping -> available.
   * @throws InvalidArgumentError('new_volume_type') same type, NotFoundError('volume_type'),
   *   InvalidVolumeStatusError, FailedPreconditionError when a migration is needed and the volume has
   *   snapshots, ResourceExhaustedError when no pool of the new type has room
   */
  async retypeVolume(caller: Caller, id: string, newType: string): Promise<VolumeRecord> {
    const v = await this.getVolume(caller, id);
    const type = await this.getVolumeType(newType);
    if (type.name === v.volumeType) throw new InvalidArgumentError('new_volume_type', `volume is already of type ${newType}`);
    const spec: VolumeTypeSpec = { name: type.name, extraSpecs: type.extraSpecs };
    const count = replicationCountOf(spec);
    await this.locks.run(id, async () => {
      const cur = (await this.readVolume(id)) ?? v;
      const pools = await this.listPools();
      const listed = pools.some((p) => p.volumeTypes.includes(type.name));
      const inPlace =
        count === cur.replicas.length &&
        cur.replicas.every((r) => r.state === 'ok' && pools.some((p) => p.name === r.pool && p.up && poolServesType(p, spec, listed)));
      let target: PoolState[] = [];
      if (!inPlace) {
        if ((await this.redis.scard(keys.volumeSnapshots(id))) > 0) throw new FailedPreconditionError(`volume ${id} has snapshots: a retype that migrates needs none`, 'volume_has_snapshots');
        target = placeReplicas(pools, { sizeGb: cur.sizeGb, volumeType: spec }, count, { capacityWeightMultiplier: this.opts.capacityWeightMultiplier });
      }
      const started = (await this.scripts.TRANSITION([keys.volume(id)], [json('retype_started')])) as [number, string];
      if (started[0] === -1) throw new NotFoundError('volume', id);
      if (started[0] === 0) throw new InvalidVolumeStatusError(started[1], 'retype');
      await this.opts.publish({ volumeId: id, projectId: cur.projectId, status: 'retyping' });
      const common = ['volume_type', type.name, 'qos', JSON.stringify(qosOf(spec)), 'multiattach', isMultiattachType(spec) ? '1' : '0', 'replication_count', String(count)];
      try {
        if (inPlace) {
          await this.redis.hset(keys.volume(id), ...common);
        } else {
          const claim = (await this.scripts.CLAIM_POOLS(target.map((p) => keys.pool(p.name)), [cur.sizeGb, ...target.map((p) => this.limitOf(p.name))])) as number[];
          if (claim[0] !== 1) throw new ResourceExhaustedError(`pool ${target[claim[1]! - 1]!.name} full: needs ${cur.sizeGb} GB, ${claim[2]} GB provisioned`, 'pool_full');
          const newReplicas: ReplicaState[] = target.map((p) => ({ pool: p.name, storageNode: p.storageNode, state: 'ok' }));
          try {
            const from = await this.readableCopy(cur);
            for (const r of newReplicas) await this.blocks.copy(from, volumeCopy(id, r));
          } catch (e) {
            for (const r of newReplicas) await this.blocks.dropCopy(volumeCopy(id, r));
            await this.scripts.RELEASE_POOLS(target.map((p) => keys.pool(p.name)), [cur.sizeGb]);
            throw e;
          }
          await this.redis.hset(keys.volume(id), ...common, 'replicas', JSON.stringify(newReplicas), 'pool', newReplicas[0]!.pool);
          for (const r of cur.replicas) await this.blocks.dropCopy(volumeCopy(id, r));
          await this.scripts.RELEASE_POOLS(cur.replicas.map((r) => keys.pool(r.pool)), [cur.sizeGb]);
        }
      } finally {
        await this.scripts.TRANSITION([keys.volume(id)], [json('retype_finished')]);
        await this.opts.publish({ volumeId: id, projectId: cur.projectId, status: 'available' });
      }
    });
    return this.getVolume(caller, id);
  }

  // ---- data (simulated guest I/O) ----

  /** The first ok copy whose pool is up. @throws FailedPreconditionError('no_reachable_copy') */
  async readableCopy(v: VolumeRecord): Promise<CopyRef> {
    const up = await this.upPools();
    const r = v.replicas.find((x) => x.state === 'ok' && up.has(x.pool));
    if (!r) throw new FailedPreconditionError(`volume ${v.id} has no reachable copy (pools ${v.replicas.map((x) => `${x.pool}:${x.state}`).join(', ')})`, 'no_reachable_copy');
    return volumeCopy(v.id, r);
  }

  /**
   * Writes `data` at `offsetBytes` to every reachable copy of the volume (a write while a copy is lost
   * lands on the survivors; the repair copies from them).
   * @returns the volume's allocated bytes after the write
   * @throws InvalidArgumentError('offset_bytes' | 'length_bytes'), InvalidVolumeStatusError, FailedPreconditionError('no_reachable_copy')
   */
  async writeVolume(caller: Caller, id: string, offsetBytes: number, data: Buffer): Promise<number> {
    const v = await this.getVolume(caller, id);
    checkIoRange(offsetBytes, data.length, v.sizeGb);
    return this.locks.run(id, async () => {
      const cur = (await this.readVolume(id)) ?? v;
      if (!IO_STATUSES.includes(cur.status)) throw new InvalidVolumeStatusError(cur.status, 'write');
      const up = await this.upPools();
      const copies = cur.replicas.filter((r) => r.state === 'ok' && up.has(r.pool)).map((r) => volumeCopy(id, r));
      if (copies.length === 0) await this.readableCopy(cur);
      await this.blocks.write(copies, offsetBytes, data);
      return this.allocatedBytes(cur);
    });
  }

  /** Reads bytes from the first reachable copy. @throws as {@link writeVolume} */
  async readData(caller: Caller, id: string, offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    const v = await this.getVolume(caller, id);
    checkIoRange(offsetBytes, lengthBytes, v.sizeGb);
    if (lengthBytes > 4 * 1024 * 1024) throw new InvalidArgumentError('length_bytes', 'at most 4 MiB per read');
    return this.locks.run(id, async () => this.blocks.read(await this.readableCopy((await this.readVolume(id)) ?? v), offsetBytes, lengthBytes));
  }

  // ---- replication ----

  /**
   * Marks pools up or down (by name, or every pool of a storage node). Down: the copies on them are
   * lost (reported: event `replication_degraded`, counter) and repaired onto other nodes when
   * possible. Up: a volume whose every copy was lost gets its copies back (the node returned with
   * its disks); others get repaired onto the returned node if still degraded.
   * @throws InvalidArgumentError('pool') when neither pool nor storage_node names a configured pool
   * @returns the volumes degraded and repaired by this call
   */
  async setPoolState(input: { pool?: string; storageNode?: string; up: boolean }): Promise<{ degraded: string[]; repaired: string[] }> {
    const names = this.opts.pools.filter((p) => (input.pool ? p.name === input.pool : input.storageNode ? p.storage_node === input.storageNode : false)).map((p) => p.name);
    if (names.length === 0) throw new InvalidArgumentError(input.pool ? 'pool' : 'storage_node', `no configured pool ${input.pool ?? `on node ${input.storageNode ?? ''}`}`);
    for (const n of names) await this.redis.hset(keys.pool(n), 'up', input.up ? '1' : '0');
    const degraded: string[] = [];
    const affected = new Set(names);
    for (const id of await this.redis.smembers(keys.allVolumes())) {
      await this.locks.run(id, async () => {
        const v = await this.readVolume(id);
        if (!v) return;
        let changed = false;
        let replicas = v.replicas;
        if (!input.up) {
          replicas = v.replicas.map((r) => {
            if (r.state === 'ok' && affected.has(r.pool)) {
              changed = true;
              this.opts.counters?.replicaLost(r.pool);
              return { ...r, state: 'lost' as const };
            }
            return r;
          });
        } else if (v.replicas.every((r) => r.state === 'lost')) {
          replicas = v.replicas.map((r) => (affected.has(r.pool) ? ((changed = true), { ...r, state: 'ok' as const }) : r));
        }
        if (!changed) return;
        const firstOk = replicas.find((r) => r.state === 'ok');
        await this.redis.hset(keys.volume(id), 'replicas', JSON.stringify(replicas), ...(firstOk ? ['pool', firstOk.pool] : []));
        if (!input.up) {
          degraded.push(id);
          this.opts.logger.warn({ volume_id: id, pools: names }, 'volume copy lost');
          await this.opts.publish({ volumeId: id, projectId: v.projectId, status: `replication_${replicationStatusOf(replicas, v.replicationCount) === 'disabled' ? 'error' : replicationStatusOf(replicas, v.replicationCount)}` });
        }
      });
    }
    const repaired = await this.repairAll();
    return { degraded, repaired };
  }

  /**
   * Repairs every volume with a lost copy and a healthy one: a new copy on a pool of another storage
   * node (Cinder's filters/weigher; capacity claimed), data copied from a healthy copy, the lost copy
   * dropped and its capacity released. Volumes with no node available stay degraded (retried by
   * {@link resync}). Idempotent.
   * @returns ids of the repaired volumes
   */
  async repairAll(): Promise<string[]> {
    const repaired: string[] = [];
    for (const id of await this.redis.smembers(keys.allVolumes())) {
      try {
        if (await this.repairVolume(id)) repaired.push(id);
      } catch (e) {
        this.opts.logger.warn({ err: e, volume_id: id }, 'volume repair failed; will retry');
      }
    }
    return repaired;
  }

  private async repairVolume(id: string): Promise<boolean> {
    return this.locks.run(id, async () => {
      const v = await this.readVolume(id);
      if (!v || !v.replicas.some((r) => r.state === 'lost') || !v.replicas.some((r) => r.state === 'ok')) return false;
      if (v.status === 'creating' || v.status === 'deleting') return false;
      const type = await this.getVolumeType(v.volumeType).catch(() => ({ name: v.volumeType, extraSpecs: {} }));
      let replicas = [...v.replicas];
      let any = false;
      for (const lost of v.replicas.filter((r) => r.state === 'lost')) {
        const pools = await this.listPools();
        let target: PoolState;
        try {
          [target] = placeReplicas(pools, { sizeGb: v.sizeGb, volumeType: { name: type.name, extraSpecs: type.extraSpecs } }, 1, {
            capacityWeightMultiplier: this.opts.capacityWeightMultiplier,
            excludeNodes: replicas.filter((r) => r.state === 'ok').map((r) => r.storageNode),
          }) as [PoolState];
        } catch {
          break;
        }
        const claim = (await this.scripts.CLAIM_POOLS([keys.pool(target.name)], [v.sizeGb, this.limitOf(target.name)])) as number[];
        if (claim[0] !== 1) break;
        const fresh: ReplicaState = { pool: target.name, storageNode: target.storageNode, state: 'ok' };
        const from = await this.readableCopy({ ...v, replicas });
        await this.blocks.copy(from, volumeCopy(id, fresh));
        const snaps = await this.redis.smembers(keys.volumeSnapshots(id));
        for (const sid of snaps) {
          const snap = snapshotFromHash(await this.redis.hgetall(keys.snapshot(sid)));
          const src = snap?.copies.find((c) => replicas.some((r) => r.pool === c.pool && r.state === 'ok'));
          if (!snap || !src) continue;
          await this.blocks.copy(snapshotCopy(sid, src), snapshotCopy(sid, fresh));
          const copies = [...snap.copies.filter((c) => c.pool !== lost.pool), { pool: fresh.pool, storageNode: fresh.storageNode }];
          await this.redis.hset(keys.snapshot(sid), 'copies', JSON.stringify(copies));
          if (fresh.pool !== lost.pool) await this.blocks.dropCopy(snapshotCopy(sid, lost));
        }
        replicas = replicas.map((r) => (r === lost || (r.pool === lost.pool && r.state === 'lost') ? fresh : r));
        await this.redis.hset(keys.volume(id), 'replicas', JSON.stringify(replicas), 'pool', replicas.find((r) => r.state === 'ok')!.pool);
        // The same pool back up: the fresh copy already replaced the stale one under the same key.
        if (fresh.pool !== lost.pool) await this.blocks.dropCopy(volumeCopy(id, lost));
        await this.scripts.RELEASE_POOLS([keys.pool(lost.pool)], [v.sizeGb]);
        this.opts.counters?.replicaRepaired(target.name);
        this.opts.logger.info({ volume_id: id, lost_pool: lost.pool, new_pool: target.name }, 'volume copy repaired');
        any = true;
      }
      if (any) await this.opts.publish({ volumeId: id, projectId: v.projectId, status: `replication_${replicationStatusOf(replicas, v.replicationCount)}` });
      return any;
    });
  }

  // ---- resync ----

  /**
   * One pass of the periodic resync (idempotent, safe to run on every instance): finishes volumes left
   * in creating (no local creation timer and older than the creation delay) or deleting by a restart,
   * ends an extend interrupted after its claim, and repairs lost copies.
   * @returns what it did, for logs and tests
   */
  async resync(): Promise<{ created: string[]; deleted: string[]; repaired: string[] }> {
    const created: string[] = [];
    const deleted: string[] = [];
    const now = this.opts.clock.nowMs();
    for (const id of await this.redis.smembers(keys.allVolumes())) {
      const st = await this.redis.hmget(keys.volume(id), 'status', 'created_at_ms');
      if (st[0] === 'creating' && !this.timers.has(id) && now - Number(st[1] ?? 0) >= this.opts.createDelayMs) {
        await this.finishCreation(id);
        created.push(id);
      } else if (st[0] === 'deleting') {
        await this.finishDeletion(id);
        deleted.push(id);
      } else if (st[0] === 'extending') {
        await this.scripts.TRANSITION([keys.volume(id)], [json('extend_succeeded')]);
      }
    }
    return { created, deleted, repaired: await this.repairAll() };
  }

  // ---- attachments ----

  /**
   * Reserves an attachment: available -> attaching, or (multiattach types only) attaching/in-use
   * unchanged. Idempotent per (volume, instance): an existing attachment of the instance is returned,
   * re-pointed at `hostId` when that differs (the instance moved: HA restart, migration; Cinder's
   * attachment_update with the new host's connector), its status and the volume's unchanged.
   * @throws InvalidArgumentError('instance_id'), InvalidVolumeStatusError naming the status
   */
  async createAttachment(caller: Caller, input: { volumeId: string; instanceId: string; hostId: string; mountpoint: string }): Promise<AttachmentRecord> {
    if (!input.instanceId) throw new InvalidArgumentError('instance_id', 'must not be empty');
    const v = await this.getVolume(caller, input.volumeId);
    const att: AttachmentRecord = { id: randomUUID(), volumeId: v.id, projectId: v.projectId, instanceId: input.instanceId, hostId: input.hostId, mountpoint: input.mountpoint, attachStatus: 'reserved', attachedAtMs: 0 };
    const existing = await this.redis.hget(keys.volumeInstances(v.id), input.instanceId);
    if (existing) {
      const a = attachmentFromHash(await this.redis.hgetall(keys.attachment(existing)));
      if (a) return this.pointAt(a, input.hostId);
    }
    const res = (await this.scripts.CREATE_ATTACHMENT(
      [keys.volume(v.id), keys.volumeAttachments(v.id), keys.volumeInstances(v.id), keys.attachment(att.id), keys.instanceAttachments(att.instanceId), keys.hostAttachments(att.hostId)],
      [json('attachment_reserved'), json('multiattach_reserved'), att.id, att.instanceId, ...attachmentToHash(att)],
    )) as [number, string, string?];
    if (res[0] === -1) throw new NotFoundError('volume', v.id);
    if (res[0] === 2) {
      const a = attachmentFromHash(await this.redis.hgetall(keys.attachment(res[1])));
      if (a) return this.pointAt(a, input.hostId);
      throw new NotFoundError('attachment', res[1]);
    }
    if (res[0] === 0) throw new InvalidVolumeStatusError(res[1], v.multiattach ? 'attach' : 'attach (volume type is not multiattach)');
    if (res[1] !== res[2]) await this.opts.publish({ volumeId: v.id, projectId: v.projectId, status: res[2]!, instanceId: att.instanceId });
    return att;
  }

  /** `a` re-pointed at `hostId` (no-op when already there or no host given). @throws NotFoundError when it went meanwhile */
  private async pointAt(a: AttachmentRecord, hostId: string): Promise<AttachmentRecord> {
    let cur = a;
    for (let attempt = 0; attempt < 5 && hostId && cur.hostId !== hostId; attempt++) {
      const res = Number(await this.scripts.MOVE_ATTACHMENT([keys.attachment(cur.id), keys.hostAttachments(cur.hostId), keys.hostAttachments(hostId)], [cur.id, hostId, cur.hostId]));
      if (res === 0) throw new NotFoundError('attachment', cur.id);
      const next = attachmentFromHash(await this.redis.hgetall(keys.attachment(cur.id)));
      if (!next) throw new NotFoundError('attachment', cur.id);
      cur = next;
    }
    return cur;
  }

  private async readAttachment(caller: Caller, id: string): Promise<AttachmentRecord> {
    if (!id) throw new InvalidArgumentError('attachment_id', 'must not be empty');
    const a = attachmentFromHash(await this.redis.hgetall(keys.attachment(id)));
    if (!a || (!caller.admin && a.projectId !== caller.projectId)) throw new NotFoundError('attachment', id);
    return a;
  }

  /** The host connected the volume: attachment attached, volume attaching -> in-use. Idempotent. */
  async completeAttachment(caller: Caller, id: string): Promise<AttachmentRecord> {
    const a = await this.readAttachment(caller, id);
    const res = (await this.scripts.COMPLETE_ATTACHMENT([keys.attachment(id), keys.volume(a.volumeId), keys.volumeAttachments(a.volumeId)], [json('attachment_completed'), id, this.opts.clock.nowMs()])) as [number, string, string?];
    if (res[0] === -1) throw new NotFoundError('attachment', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(res[1], 'complete attachment');
    if (res[0] === 1 && res[1] !== res[2]) await this.opts.publish({ volumeId: a.volumeId, projectId: a.projectId, status: res[2]!, instanceId: a.instanceId });
    return this.readAttachment(caller, id);
  }

  /**
   * Removes an attachment, by id or by (volume, instance); the volume becomes available when the last
   * one goes. Idempotent: an id or (volume, instance) without an attachment is a no-op (another
   * project's attachment is NOT_FOUND).
   * @throws InvalidArgumentError('attachment_id') when neither form is given
   */
  async deleteAttachment(caller: Caller, ref: string | { attachmentId?: string; volumeId?: string; instanceId?: string }): Promise<void> {
    const r = typeof ref === 'string' ? { attachmentId: ref } : ref;
    let id = r.attachmentId ?? '';
    if (!id) {
      if (!r.volumeId || !r.instanceId) throw new InvalidArgumentError('attachment_id', 'attachment_id, or volume_id and instance_id, are required');
      const v = await this.getVolume(caller, r.volumeId);
      id = (await this.redis.hget(keys.volumeInstances(v.id), r.instanceId)) ?? '';
      if (!id) return;
    }
    // An attachment re-pointed at another host meanwhile (the instance moved) is re-read: its host set is another key.
    for (let attempt = 0; ; attempt++) {
      const a = attachmentFromHash(await this.redis.hgetall(keys.attachment(id)));
      if (!a) return;
      if (!caller.admin && a.projectId !== caller.projectId) throw new NotFoundError('attachment', id);
      const res = (await this.scripts.DELETE_ATTACHMENT(
        [keys.attachment(id), keys.volume(a.volumeId), keys.volumeAttachments(a.volumeId), keys.volumeInstances(a.volumeId), keys.instanceAttachments(a.instanceId), keys.hostAttachments(a.hostId)],
        [id, a.instanceId, a.hostId],
      )) as [number, string?, string?];
      if (res[0] === -2 && attempt < 20) continue;
      if (res[0] === -2) throw new ConflictError(`attachment ${id} keeps moving between hosts; retry`);
      if (res[0] === 1 && res[1] && res[1] !== res[2]) await this.opts.publish({ volumeId: a.volumeId, projectId: a.projectId, status: res[2]!, instanceId: a.instanceId });
      return;
    }
  }

  /**
   * Deletes every attachment of an instance or of a host (HA: the host died, its volumes must become
   * attachable elsewhere). Idempotent.
   * @throws InvalidArgumentError('instance_id') when neither instance_id nor host_id is given
   * @returns the attachments removed
   */
  async forceDetach(caller: Caller, input: { instanceId?: string; hostId?: string }): Promise<AttachmentRecord[]> {
    if (!input.instanceId && !input.hostId) throw new InvalidArgumentError('instance_id', 'instance_id or host_id is required');
    const ids = input.instanceId ? await this.redis.smembers(keys.instanceAttachments(input.instanceId)) : await this.redis.smembers(keys.hostAttachments(input.hostId!));
    const out: AttachmentRecord[] = [];
    for (const id of ids) {
      const a = attachmentFromHash(await this.redis.hgetall(keys.attachment(id)));
      if (!a || (input.hostId && a.hostId !== input.hostId)) continue;
      if (!caller.admin && a.projectId !== caller.projectId) continue;
      await this.deleteAttachment(caller, id);
      out.push(a);
    }
    return out;
  }

  /** Attachments of a volume, or of an instance (at least one of the two). */
  async listAttachments(caller: Caller, filter: { volumeId?: string; instanceId?: string }): Promise<AttachmentRecord[]> {
    let ids: string[];
    if (filter.volumeId) ids = await this.redis.hkeys(keys.volumeAttachments((await this.getVolume(caller, filter.volumeId)).id));
    else if (filter.instanceId) ids = await this.redis.smembers(keys.instanceAttachments(filter.instanceId));
    else throw new InvalidArgumentError('volume_id', 'volume_id or instance_id is required');
    const all = await Promise.all(ids.map(async (id) => attachmentFromHash(await this.redis.hgetall(keys.attachment(id)))));
    return all.filter((a): a is AttachmentRecord => !!a && (caller.admin || a.projectId === caller.projectId) && (!filter.instanceId || a.instanceId === filter.instanceId));
  }

  // ---- snapshots ----

  /**
   * Snapshots a volume (available; in-use needs `force`), counting its size on the volume's pool; the
   * snapshot's copies are copy-on-write clones of the volume's reachable copies (no bytes copied).
   * @throws InvalidVolumeStatusError naming the status, ResourceExhaustedError naming the pool
   */
  async createSnapshot(caller: Caller, input: { volumeId: string; name: string; force: boolean }): Promise<SnapshotRecord> {
    const v = await this.getVolume(caller, input.volumeId);
    return this.locks.run(v.id, async () => {
      const cur = (await this.readVolume(v.id)) ?? v;
      const snap = { id: randomUUID(), volumeId: v.id, projectId: v.projectId, name: input.name, status: 'available', pool: cur.pool, createdAtMs: this.opts.clock.nowMs() };
      const res = (await this.scripts.CREATE_SNAPSHOT(
        [keys.volume(v.id), keys.pool(cur.pool), keys.snapshot(snap.id), keys.volumeSnapshots(v.id), keys.projectSnapshots(v.projectId)],
        [json(input.force ? 'forced_snapshot_allowed' : 'snapshot_allowed'), this.limitOf(cur.pool), snap.id, ...snapshotToHash(snap)],
      )) as [number, string | number, number?];
      if (res[0] === -1) throw new NotFoundError('volume', v.id);
      if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), res[1] === 'in-use' ? 'snapshot without force' : 'snapshot');
      if (res[0] === 3) throw new ResourceExhaustedError(`pool ${cur.pool} full: snapshot needs ${res[2]} GB, ${res[1]} GB of ${this.limitOf(cur.pool)} GB provisioned`, 'pool_full');
      const up = await this.upPools();
      const copies = cur.replicas.filter((r) => r.state === 'ok' && up.has(r.pool)).map((r) => ({ pool: r.pool, storageNode: r.storageNode }));
      for (const c of copies) await this.blocks.copy(volumeCopy(v.id, c), snapshotCopy(snap.id, c));
      await this.redis.hset(keys.snapshot(snap.id), 'copies', JSON.stringify(copies));
      return { ...snap, sizeGb: Number(res[1]), copies };
    });
  }

  /** @throws NotFoundError('snapshot') also for another project's */
  async getSnapshot(caller: Caller, id: string): Promise<SnapshotRecord> {
    if (!id) throw new InvalidArgumentError('snapshot_id', 'must not be empty');
    const s = snapshotFromHash(await this.redis.hgetall(keys.snapshot(id)));
    if (!s || (!caller.admin && s.projectId !== caller.projectId)) throw new NotFoundError('snapshot', id);
    return s;
  }

  /** The caller's project's snapshots, or one volume's. */
  async listSnapshots(caller: Caller, volumeId?: string): Promise<SnapshotRecord[]> {
    const ids = volumeId ? await this.redis.smembers(keys.volumeSnapshots((await this.getVolume(caller, volumeId)).id)) : await this.redis.smembers(keys.projectSnapshots(caller.projectId));
    const all = await Promise.all(ids.map(async (id) => snapshotFromHash(await this.redis.hgetall(keys.snapshot(id)))));
    return all.filter((s): s is SnapshotRecord => !!s).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Deletes a snapshot: drops its copies and releases its pool capacity. */
  async deleteSnapshot(caller: Caller, id: string): Promise<void> {
    const s = await this.getSnapshot(caller, id);
    await this.locks.run(s.volumeId, async () => {
      for (const c of s.copies) await this.blocks.dropCopy(snapshotCopy(id, c));
      const res = (await this.scripts.DELETE_SNAPSHOT([keys.snapshot(id), keys.pool(s.pool), keys.volumeSnapshots(s.volumeId), keys.projectSnapshots(s.projectId)], [id])) as number[];
      if (res[0] === -1) throw new NotFoundError('snapshot', id);
    });
  }

  /** Volume counts by status (metrics). */
  async countByStatus(): Promise<Map<string, number>> {
    const ids = await this.redis.smembers(keys.allVolumes());
    const statuses = await Promise.all(ids.map((id) => this.redis.hget(keys.volume(id), 'status')));
    const out = new Map<string, number>();
    for (const s of statuses) if (s) out.set(s, (out.get(s) ?? 0) + 1);
    return out;
  }

  /** Copies by state (ok / lost) and volumes by replication status (metrics). */
  async replicaCounts(): Promise<{ copies: Map<string, number>; replication: Map<string, number> }> {
    const copies = new Map<string, number>();
    const replication = new Map<string, number>();
    for (const id of await this.redis.smembers(keys.allVolumes())) {
      const v = await this.readVolume(id);
      if (!v) continue;
      for (const r of v.replicas) copies.set(r.state, (copies.get(r.state) ?? 0) + 1);
      const st = replicationStatusOf(v.replicas, v.replicationCount);
      replication.set(st, (replication.get(st) ?? 0) + 1);
    }
    return { copies, replication };
  }

  /** Storage nodes of the configured pools. */
  storageNodes(): string[] {
    return [...new Set(this.opts.pools.map((p) => p.storage_node))];
  }
}
