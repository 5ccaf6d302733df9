import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { AlreadyExistsError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import {
  InvalidVolumeStatusError,
  backendOf,
  isMultiattachType,
  maxProvisionedCapacityGb,
  schedulePool,
  transitionsOf,
  type PoolState,
  type VolumeEvent,
  type VolumeStatus,
  type VolumeTypeSpec,
} from '@minicloud/domain-volume';
import { defineLuaScript, keyspace, type LuaScript, type Redis } from '@minicloud/platform-state';
import type { Logger } from '@minicloud/platform-logging';
import type { PoolConfig } from './config';
import * as lua from './lua-scripts';
import {
  attachmentFromHash,
  attachmentToHash,
  snapshotFromHash,
  snapshotToHash,
  volumeFromHash,
  volumeToHash,
  type AttachmentRecord,
  type SnapshotRecord,
  type VolumeRecord,
  type VolumeTypeRecord,
} from './records';

/** Who calls: project scoping as OpenStack does it (admins see every project). */
export interface Caller {
  projectId: string;
  admin: boolean;
}

/** Publishes a volume status change (events are hints; failures are logged, not raised). */
export type StatusPublisher = (v: { volumeId: string; projectId: string; status: string; instanceId?: string }) => Promise<void>;

export interface CreateVolumeInput {
  name: string;
  sizeGb: number;
  volumeType: string;
  availabilityZone: string;
  imageId?: string;
  snapshotId?: string;
  sourceVolumeId?: string;
  metadata: Record<string, string>;
}

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
  snapshot: (id: string) => k('snapshot', id),
};

const json = (event: VolumeEvent) => JSON.stringify(transitionsOf(event));

/**
 * The Cinder volume manager: pools and types from config, volumes, attachments and snapshots in Redis,
 * every status change one Lua script (so concurrent calls never leave a volume in-use without an
 * attachment, attached twice, or a pool over its capacity). Creation completes `createDelayMs` later
 * on the injected clock.
 */
export class VolumeManager {
  private readonly scripts: Record<keyof typeof lua, LuaScript>;
  private readonly timers = new Set<TimerHandle>();

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
    },
  ) {
    this.scripts = Object.fromEntries(Object.entries(lua).map(([name, src]) => [name, defineLuaScript(redis, src)])) as never;
  }

  /** Seeds the volume types the pools name, and the default type (existing ones are kept). */
  async seedVolumeTypes(): Promise<void> {
    const names = new Set([this.opts.defaultVolumeType, ...this.opts.pools.flatMap((p) => p.volume_types)]);
    for (const name of names) {
      const rec: VolumeTypeRecord = { id: randomUUID(), name, extraSpecs: {}, isPublic: true };
      await this.redis.hsetnx(keys.types(), name, JSON.stringify(rec));
    }
  }

  // ---- volume types and pools ----

  /** @throws InvalidArgumentError('name') when empty, AlreadyExistsError when the name is taken */
  async createVolumeType(name: string, extraSpecs: Record<string, string>): Promise<VolumeTypeRecord> {
    if (!name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
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

  /** The pools with their provisioned capacity read from Redis. */
  async listPools(): Promise<PoolState[]> {
    const provisioned = await Promise.all(this.opts.pools.map((p) => this.redis.hget(keys.pool(p.name), 'provisioned_gb')));
    return this.opts.pools.map((p, i) => ({
      name: p.name,
      backend: backendOf(p.name),
      storageNode: p.storage_node,
      totalCapacityGb: p.total_capacity_gb,
      provisionedCapacityGb: Number(provisioned[i] ?? 0),
      maxOverSubscriptionRatio: p.max_over_subscription_ratio,
      reservedPercentage: p.reserved_percentage,
      thinProvisioningSupport: p.thin_provisioning_support,
      volumeTypes: p.volume_types,
      up: true,
    }));
  }

  private poolConfig(name: string): PoolState {
    const p = this.opts.pools.find((x) => x.name === name);
    if (!p) throw new InternalError(`pool ${name} is not configured`);
    return { name: p.name, backend: backendOf(p.name), storageNode: p.storage_node, totalCapacityGb: p.total_capacity_gb, provisionedCapacityGb: 0, maxOverSubscriptionRatio: p.max_over_subscription_ratio, reservedPercentage: p.reserved_percentage, thinProvisioningSupport: p.thin_provisioning_support, volumeTypes: p.volume_types, up: true };
  }

  private limitOf(poolName: string): number {
    return maxProvisionedCapacityGb(this.poolConfig(poolName));
  }

  // ---- volumes ----

  /**
   * Schedules a pool and claims `sizeGb` on it atomically (falling back to the alternates when a
   * concurrent claim took the room), then stores the volume in status creating.
   * @throws InvalidArgumentError('size_gb'), NotFoundError('volume_type' | 'snapshot' | 'volume'),
   *   ResourceExhaustedError naming the pool(s) that have no room
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
      if (input.sizeGb < src.sizeGb) throw new InvalidArgumentError('size_gb', `must be at least the source volume's ${src.sizeGb} GB`);
    }
    const spec: VolumeTypeSpec = { name: type.name, extraSpecs: type.extraSpecs };
    const selection = schedulePool(await this.listPools(), { sizeGb: input.sizeGb, volumeType: spec }, { capacityWeightMultiplier: this.opts.capacityWeightMultiplier });
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
      metadata: input.metadata,
      createdAtMs: this.opts.clock.nowMs(),
    };
    const full: string[] = [];
    for (const pool of [selection.pool, ...selection.alternates]) {
      const vol: VolumeRecord = { ...base, pool: pool.name };
      const res = (await this.scripts.CREATE_VOLUME(
        [keys.pool(pool.name), keys.volume(vol.id), keys.projectVolumes(vol.projectId), keys.allVolumes()],
        [vol.sizeGb, this.limitOf(pool.name), vol.id, ...volumeToHash(vol)],
      )) as number[];
      if (res[0] === 1) {
        await this.opts.publish({ volumeId: vol.id, projectId: vol.projectId, status: 'creating' });
        this.scheduleCreation(vol.id);
        return vol;
      }
      full.push(`${pool.name}: needs ${vol.sizeGb} GB, ${res[1]} GB of ${this.limitOf(pool.name)} GB provisioned`);
    }
    throw new ResourceExhaustedError(`No valid backend: pool full (${full.join('; ')})`, 'pool_full');
  }

  private scheduleCreation(volumeId: string): void {
    const timer = this.opts.clock.setTimeout(() => {
      this.timers.delete(timer);
      this.finishCreation(volumeId).catch((e) => this.opts.logger.error({ err: e, volume_id: volumeId }, 'finishing volume creation failed'));
    }, this.opts.createDelayMs);
    this.timers.add(timer);
  }

  /** The simulated backend is done: creating -> available (a no-op when the volume went away). */
  async finishCreation(volumeId: string): Promise<void> {
    const res = (await this.scripts.TRANSITION([keys.volume(volumeId)], [json('create_succeeded')])) as [number, string, string];
    if (res[0] !== 1) return;
    const v = await this.readVolume(volumeId);
    if (v) await this.opts.publish({ volumeId, projectId: v.projectId, status: res[2] });
  }

  /** Cancels pending creation timers (shutdown). Volumes left in creating stay so until resynced. */
  stop(): void {
    for (const t of this.timers) this.opts.clock.clearTimeout(t);
    this.timers.clear();
  }

  private async readVolume(id: string): Promise<VolumeRecord | undefined> {
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

  /**
   * Deletes a volume (available, error, error_deleting) without snapshots or attachments: releases
   * its pool capacity and removes every key of it.
   * @throws FailedPreconditionError naming the status, or the snapshot/attachment count
   */
  async deleteVolume(caller: Caller, id: string): Promise<void> {
    const v = await this.getVolume(caller, id);
    const res = (await this.scripts.DELETE_VOLUME(
      [keys.volume(id), keys.pool(v.pool), keys.volumeAttachments(id), keys.volumeInstances(id), keys.volumeSnapshots(id), keys.projectVolumes(v.projectId), keys.allVolumes()],
      [json('delete_started'), id],
    )) as [number, string | number];
    if (res[0] === -1) throw new NotFoundError('volume', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'delete');
    if (res[0] === 2) throw new FailedPreconditionError(`volume ${id} has ${res[1]} snapshot(s): delete them first`, 'volume_has_snapshots');
    if (res[0] === 3) throw new FailedPreconditionError(`volume ${id} has ${res[1]} attachment(s)`, 'volume_attached');
    await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'deleting' });
    await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'deleted' });
  }

  /**
   * Grows an available volume, claiming the delta on its pool: available -> extending -> available.
   * @throws InvalidArgumentError('new_size_gb') when not larger, InvalidVolumeStatusError, ResourceExhaustedError naming the pool
   */
  async extendVolume(caller: Caller, id: string, newSizeGb: number): Promise<VolumeRecord> {
    const v = await this.getVolume(caller, id);
    if (!Number.isInteger(newSizeGb) || newSizeGb <= 0) throw new InvalidArgumentError('new_size_gb', 'must be a positive number of GB');
    const res = (await this.scripts.EXTEND_VOLUME([keys.volume(id), keys.pool(v.pool)], [json('extend_started'), newSizeGb, this.limitOf(v.pool)])) as [number, string | number];
    if (res[0] === -1) throw new NotFoundError('volume', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'extend');
    if (res[0] === 2) throw new InvalidArgumentError('new_size_gb', `must be larger than the current ${res[1]} GB`);
    if (res[0] === 3) throw new ResourceExhaustedError(`pool ${v.pool} full: needs ${newSizeGb - v.sizeGb} GB more, ${res[1]} GB of ${this.limitOf(v.pool)} GB provisioned`, 'pool_full');
    await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'extending' });
    const done = (await this.scripts.TRANSITION([keys.volume(id)], [json('extend_succeeded')])) as number[];
    if (done[0] === 1) await this.opts.publish({ volumeId: id, projectId: v.projectId, status: 'available' });
    return this.getVolume(caller, id);
  }

  // ---- attachments ----

  /**
   * Reserves an attachment: available -> attaching, or (multiattach types only) attaching/in-use unchanged.
   * @throws InvalidArgumentError('instance_id'), InvalidVolumeStatusError naming the status,
   *   AlreadyExistsError when the instance already has an attachment of this volume
   */
  async createAttachment(caller: Caller, input: { volumeId: string; instanceId: string; hostId: string; mountpoint: string }): Promise<AttachmentRecord> {
    if (!input.instanceId) throw new InvalidArgumentError('instance_id', 'must not be empty');
    const v = await this.getVolume(caller, input.volumeId);
    const att: AttachmentRecord = { id: randomUUID(), volumeId: v.id, projectId: v.projectId, instanceId: input.instanceId, hostId: input.hostId, mountpoint: input.mountpoint, attachStatus: 'reserved', attachedAtMs: 0 };
    const res = (await this.scripts.CREATE_ATTACHMENT(
      [keys.volume(v.id), keys.volumeAttachments(v.id), keys.volumeInstances(v.id), keys.attachment(att.id), keys.instanceAttachments(att.instanceId)],
      [json('attachment_reserved'), json('multiattach_reserved'), att.id, att.instanceId, ...attachmentToHash(att)],
    )) as [number, string, string?];
    if (res[0] === -1) throw new NotFoundError('volume', v.id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(res[1], v.multiattach ? 'attach' : 'attach (volume type is not multiattach)');
    if (res[0] === 2) throw new AlreadyExistsError('attachment', `${res[1]} (instance ${att.instanceId}, volume ${v.id})`);
    if (res[1] !== res[2]) await this.opts.publish({ volumeId: v.id, projectId: v.projectId, status: res[2]!, instanceId: att.instanceId });
    return att;
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

  /** Removes an attachment; the volume becomes available when the last one goes. */
  async deleteAttachment(caller: Caller, id: string): Promise<void> {
    const a = await this.readAttachment(caller, id);
    const res = (await this.scripts.DELETE_ATTACHMENT(
      [keys.attachment(id), keys.volume(a.volumeId), keys.volumeAttachments(a.volumeId), keys.volumeInstances(a.volumeId), keys.instanceAttachments(a.instanceId)],
      [id, a.instanceId],
    )) as [number, string?, string?];
    if (res[0] === -1) throw new NotFoundError('attachment', id);
    if (res[1] && res[1] !== res[2]) await this.opts.publish({ volumeId: a.volumeId, projectId: a.projectId, status: res[2]!, instanceId: a.instanceId });
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
   * Snapshots a volume (available; in-use needs `force`), counting its size on the volume's pool.
   * @throws InvalidVolumeStatusError naming the status, ResourceExhaustedError naming the pool
   */
  async createSnapshot(caller: Caller, input: { volumeId: string; name: string; force: boolean }): Promise<SnapshotRecord> {
    const v = await this.getVolume(caller, input.volumeId);
    const snap = { id: randomUUID(), volumeId: v.id, projectId: v.projectId, name: input.name, status: 'available', pool: v.pool, createdAtMs: this.opts.clock.nowMs() };
    const res = (await this.scripts.CREATE_SNAPSHOT(
      [keys.volume(v.id), keys.pool(v.pool), keys.snapshot(snap.id), keys.volumeSnapshots(v.id), keys.projectSnapshots(v.projectId)],
      [json(input.force ? 'forced_snapshot_allowed' : 'snapshot_allowed'), this.limitOf(v.pool), snap.id, ...snapshotToHash(snap)],
    )) as [number, string | number, number?];
    if (res[0] === -1) throw new NotFoundError('volume', v.id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), res[1] === 'in-use' ? 'snapshot without force' : 'snapshot');
    if (res[0] === 3) throw new ResourceExhaustedError(`pool ${v.pool} full: snapshot needs ${res[2]} GB, ${res[1]} GB of ${this.limitOf(v.pool)} GB provisioned`, 'pool_full');
    return { ...snap, sizeGb: Number(res[1]) };
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

  /** Deletes a snapshot and releases its pool capacity. */
  async deleteSnapshot(caller: Caller, id: string): Promise<void> {
    const s = await this.getSnapshot(caller, id);
    const res = (await this.scripts.DELETE_SNAPSHOT([keys.snapshot(id), keys.pool(s.pool), keys.volumeSnapshots(s.volumeId), keys.projectSnapshots(s.projectId)], [id])) as number[];
    if (res[0] === -1) throw new NotFoundError('snapshot', id);
  }

  /** Volume counts by status (metrics). */
  async countByStatus(): Promise<Map<string, number>> {
    const ids = await this.redis.smembers(keys.allVolumes());
    const statuses = await Promise.all(ids.map((id) => this.redis.hget(keys.volume(id), 'status')));
    const out = new Map<string, number>();
    for (const s of statuses) if (s) out.set(s, (out.get(s) ?? 0) + 1);
    return out;
  }
}
