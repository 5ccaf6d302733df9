import { FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { BLOCK_SIZE_BYTES, InvalidVolumeStatusError, isMultiattachType, placeReplicas, poolServesType, qosOf, replicationCountOf, type PoolState, type ReplicaState, type VolumeStatus, type VolumeTypeSpec } from '@minicloud/domain-volume';
import type { Clock } from '@minicloud/domain-clock';
import type { Redis } from '@minicloud/platform-state';
import type { BlockStore, CopyRef } from './block-store';
import type { KeyedMutex } from './keyed-mutex';
import type { Pools } from './pools';
import { volumeCopy, volumeHash, type VolumeRecord } from './records';
import { transitionArg, visibleTo, type Caller, type StatusPublisher, type VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import type { VolumeTypes } from './volume-types';
import type { VolumeQuota } from './volume-quota';
import type { Logger } from '@minicloud/platform-logging';

/** Most metadata items a volume keeps (Nova's and Cinder's quota metadata_items default). */
export const MAX_METADATA_ITEMS = 128;

/** A change to a volume's attributes: unset fields stay; metadata keys are removed, then set. */
export interface VolumePatch {
  name?: string;
  description?: string;
  bootable?: boolean;
  readOnly?: boolean;
  setMetadata: Record<string, string>;
  removeMetadata: string[];
}

/** What {@link Volumes} uses. */
export interface VolumesDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'DELETE_VOLUME' | 'FINISH_DELETE' | 'EXTEND_VOLUME' | 'TRANSITION' | 'CLAIM_POOLS' | 'RELEASE_POOLS' | 'UPDATE_VOLUME'>;
  /** Per-volume lock shared by every module that changes a volume's data or copies. */
  locks: KeyedMutex;
  blocks: BlockStore;
  pools: Pools;
  types: Pick<VolumeTypes, 'get' | 'specOf'>;
  publish: StatusPublisher;
  /** Cinder's capacity_weight_multiplier (1 spreads, -1 stacks), for the pools a migrating retype picks. */
  capacityWeightMultiplier: number;
  clock: Clock;
  /** The project quota (volumes, gigabytes); none: nothing is limited or counted. */
  quota?: VolumeQuota;
  logger?: Logger;
}

/**
 * Volumes once they exist (creation is {@link VolumeCreation}): reads with project scoping, delete,
 * extend and retype, every status change one Lua script (so concurrent calls never leave a volume
 * in two states or a pool over its capacity).
 */
export class Volumes {
  constructor(private readonly d: VolumesDeps) {}

  /** Reads a volume record by id (no project check). */
  async read(id: string): Promise<VolumeRecord | undefined> {
    return volumeHash.fromHash(await this.d.redis.hgetall(keys.volume(id)));
  }

  /** @throws InvalidArgumentError('volume_id') when empty, NotFoundError('volume') also for another project's */
  async get(caller: Caller, id: string): Promise<VolumeRecord> {
    return visibleTo(caller, 'volume', id, id ? await this.read(id) : undefined);
  }

  /** The caller's project's volumes (every project's for an admin), oldest first. */
  async list(caller: Caller, status?: VolumeStatus): Promise<VolumeRecord[]> {
    const ids = await this.d.redis.smembers(caller.admin ? keys.allVolumes() : keys.projectVolumes(caller.projectId));
    const vols = (await Promise.all(ids.map((id) => this.read(id)))).filter((v): v is VolumeRecord => !!v);
    return vols.filter((v) => !status || v.status === status).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** Volume counts by status (metrics). */
  async countByStatus(): Promise<Map<string, number>> {
    const ids = await this.d.redis.smembers(keys.allVolumes());
    const statuses = await Promise.all(ids.map((id) => this.d.redis.hget(keys.volume(id), 'status')));
    const out = new Map<string, number>();
    for (const s of statuses) if (s) out.set(s, (out.get(s) ?? 0) + 1);
    return out;
  }

  /** Bytes actually written (mapped blocks x block size) on the first ok copy; 0 when none. */
  async allocatedBytes(v: VolumeRecord): Promise<number> {
    const r = v.replicas.find((x) => x.state === 'ok');
    return r ? (await this.d.blocks.blockCount(volumeCopy(v.id, r))) * BLOCK_SIZE_BYTES : 0;
  }

  /** The first ok copy whose pool is up. @throws FailedPreconditionError('no_reachable_copy') */
  async readableCopy(v: VolumeRecord): Promise<CopyRef> {
    const up = await this.d.pools.upNames();
    const r = v.replicas.find((x) => x.state === 'ok' && up.has(x.pool));
    if (!r) throw new FailedPreconditionError(`volume ${v.id} has no reachable copy (pools ${v.replicas.map((x) => `${x.pool}:${x.state}`).join(', ')})`, 'no_reachable_copy');
    return volumeCopy(v.id, r);
  }

  /**
   * Deletes a volume (available, error, error_deleting) without snapshots or attachments: deleting,
   * its copies dropped, then its pool capacity released and every key removed.
   * @throws FailedPreconditionError naming the status, or the snapshot/attachment count
   */
  async delete(caller: Caller, id: string): Promise<void> {
    const v = await this.get(caller, id);
    const res = (await this.d.scripts.DELETE_VOLUME([keys.volume(id), keys.volumeAttachments(id), keys.volumeSnapshots(id)], [transitionArg('delete_started')])) as [number, string | number];
    if (res[0] === -1) throw new NotFoundError('volume', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'delete');
    if (res[0] === 2) throw new FailedPreconditionError(`volume ${id} has ${res[1]} snapshot(s): delete them first`, 'volume_has_snapshots');
    if (res[0] === 3) throw new FailedPreconditionError(`volume ${id} has ${res[1]} attachment(s)`, 'volume_attached');
    await this.d.publish({ volumeId: id, projectId: v.projectId, status: 'deleting' });
    await this.finishDeletion(id);
  }

  /** Second phase of a delete (also run by the resync): drops the copies, releases capacity, removes the keys. */
  async finishDeletion(id: string): Promise<void> {
    await this.d.locks.run(id, async () => {
      const v = await this.read(id);
      if (!v || v.status !== 'deleting') return;
      for (const r of v.replicas) await this.d.blocks.dropCopy(volumeCopy(id, r));
      const res = (await this.d.scripts.FINISH_DELETE(
        [keys.volume(id), keys.volumeAttachments(id), keys.volumeInstances(id), keys.volumeSnapshots(id), keys.projectVolumes(v.projectId), keys.allVolumes(), ...v.replicas.map((r) => keys.pool(r.pool))],
        [id],
      )) as number[];
      if (res[0] !== 1) return;
      await this.d.publish({ volumeId: id, projectId: v.projectId, status: 'deleted' });
      if (v.quotaAccounted && this.d.quota) {
        await this.d.quota.release(v.projectId, { volumes: 1, gigabytes: v.sizeGb }).catch((e) => this.d.logger?.warn({ err: e, volume_id: id }, 'releasing the volume quota failed'));
      }
    });
  }

  /**
   * Renames, describes, flags (bootable, read-only) a volume and removes, then sets, metadata keys, in
   * one atomic step (any status but deleting); the update time is set. At most
   * {@link MAX_METADATA_ITEMS} keys remain (Nova's and Cinder's metadata_items default).
   * @throws NotFoundError (also another project's), InvalidArgumentError('name' | 'description') over 255
   *   characters, InvalidArgumentError('metadata') over the item limit, InvalidVolumeStatusError when deleting
   */
  async update(caller: Caller, id: string, patch: VolumePatch): Promise<VolumeRecord> {
    if (patch.name !== undefined && patch.name.length > 255) throw new InvalidArgumentError('name', 'is longer than 255 characters');
    if (patch.description !== undefined && patch.description.length > 255) throw new InvalidArgumentError('description', 'is longer than 255 characters');
    await this.get(caller, id);
    const fields = Object.fromEntries(
      volumeHash.toHash({ name: patch.name, description: patch.description, bootable: patch.bootable, readOnly: patch.readOnly, updatedAtMs: this.d.clock.nowMs() }).flatMap((x, i, a) => (i % 2 ? [] : [[x, a[i + 1]]])),
    );
    const res = (await this.d.scripts.UPDATE_VOLUME([keys.volume(id)], [JSON.stringify(fields), JSON.stringify(patch.removeMetadata), JSON.stringify(patch.setMetadata), MAX_METADATA_ITEMS])) as [number, string | number];
    if (res[0] === -1) throw new NotFoundError('volume', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'update');
    if (res[0] === 2) throw new InvalidArgumentError('metadata', `would hold ${res[1]} items, more than ${MAX_METADATA_ITEMS}`);
    return this.get(caller, id);
  }

  /**
   * Sets a volume's status as an admin repairs one (Cinder's os-reset_status): no transition check,
   * attachments and data untouched; the change is published.
   * @throws NotFoundError
   */
  async resetStatus(caller: Caller, id: string, status: VolumeStatus): Promise<VolumeRecord> {
    const v = await this.get(caller, id);
    await this.d.locks.run(id, async () => {
      if (!(await this.read(id))) throw new NotFoundError('volume', id);
      await this.d.redis.hset(keys.volume(id), 'status', status, 'updated_at_ms', String(this.d.clock.nowMs()));
    });
    await this.d.publish({ volumeId: id, projectId: v.projectId, status });
    return this.get(caller, id);
  }

  /**
   * Grows an available volume, claiming the delta on the pool of every copy: available -> extending -> available.
   * The delta's gigabytes are reserved in the project's quota first, committed when the volume grew.
   * @throws InvalidArgumentError('new_size_gb') when not larger, InvalidVolumeStatusError, ResourceExhaustedError
   *   naming the pool, or from identity when the project is over its gigabytes quota
   */
  async extend(caller: Caller, id: string, newSizeGb: number): Promise<VolumeRecord> {
    const v = await this.get(caller, id);
    if (!Number.isInteger(newSizeGb) || newSizeGb <= 0) throw new InvalidArgumentError('new_size_gb', 'must be a positive number of GB');
    await this.d.locks.run(id, async () => {
      const cur = (await this.read(id)) ?? v;
      const pools = cur.replicas.map((r) => r.pool);
      const limits = pools.map((p) => this.d.pools.limitOf(p));
      const quota = cur.quotaAccounted && newSizeGb > cur.sizeGb ? this.d.quota : undefined;
      const reservationId = await quota?.reserve(cur.projectId, { gigabytes: newSizeGb - cur.sizeGb });
      let res: [number, string | number, number?];
      try {
        res = (await this.d.scripts.EXTEND_VOLUME([keys.volume(id), ...pools.map((p) => keys.pool(p))], [transitionArg('extend_started'), newSizeGb, ...limits])) as [number, string | number, number?];
      } catch (e) {
        if (reservationId) await quota!.rollback(reservationId);
        throw e;
      }
      if (reservationId) {
        if (res[0] === 1) await quota!.commit(reservationId).catch((e) => this.d.logger?.warn({ err: e, volume_id: id }, 'committing the extend quota reservation failed'));
        else await quota!.rollback(reservationId);
      }
      if (res[0] === -1) throw new NotFoundError('volume', id);
      if (res[0] === 0) throw new InvalidVolumeStatusError(String(res[1]), 'extend');
      if (res[0] === 2) throw new InvalidArgumentError('new_size_gb', `must be larger than the current ${res[1]} GB`);
      if (res[0] === 3) {
        const pool = pools[res[2]! - 1]!;
        throw new ResourceExhaustedError(`pool ${pool} full: needs ${newSizeGb - cur.sizeGb} GB more, ${res[1]} GB of ${this.d.pools.limitOf(pool)} GB provisioned`, 'pool_full');
      }
      await this.d.publish({ volumeId: id, projectId: v.projectId, status: 'extending' });
      const done = (await this.d.scripts.TRANSITION([keys.volume(id)], [transitionArg('extend_succeeded')])) as number[];
      if (done[0] === 1) await this.d.publish({ volumeId: id, projectId: v.projectId, status: 'available' });
    });
    return this.get(caller, id);
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
  async retype(caller: Caller, id: string, newType: string): Promise<VolumeRecord> {
    const v = await this.get(caller, id);
    const type = await this.d.types.get(newType);
    if (type.name === v.volumeType) throw new InvalidArgumentError('new_volume_type', `volume is already of type ${newType}`);
    const spec: VolumeTypeSpec = await this.d.types.specOf(type);
    const count = replicationCountOf(spec);
    await this.d.locks.run(id, async () => {
      const cur = (await this.read(id)) ?? v;
      const pools = await this.d.pools.list();
      const listed = pools.some((p) => p.volumeTypes.includes(type.name));
      const inPlace =
        count === cur.replicas.length &&
        cur.replicas.every((r) => r.state === 'ok' && pools.some((p) => p.name === r.pool && p.up && poolServesType(p, spec, listed)));
      let target: PoolState[] = [];
      if (!inPlace) {
        if ((await this.d.redis.scard(keys.volumeSnapshots(id))) > 0) throw new FailedPreconditionError(`volume ${id} has snapshots: a retype that migrates needs none`, 'volume_has_snapshots');
        target = placeReplicas(pools, { sizeGb: cur.sizeGb, volumeType: spec }, count, { capacityWeightMultiplier: this.d.capacityWeightMultiplier });
      }
      const started = (await this.d.scripts.TRANSITION([keys.volume(id)], [transitionArg('retype_started')])) as [number, string];
      if (started[0] === -1) throw new NotFoundError('volume', id);
      if (started[0] === 0) throw new InvalidVolumeStatusError(started[1], 'retype');
      await this.d.publish({ volumeId: id, projectId: cur.projectId, status: 'retyping' });
      const common = ['volume_type', type.name, 'qos', JSON.stringify(qosOf(spec)), 'multiattach', isMultiattachType(spec) ? '1' : '0', 'replication_count', String(count)];
      try {
        if (inPlace) await this.d.redis.hset(keys.volume(id), ...common);
        else await this.migrate(cur, target, common);
      } finally {
        await this.d.scripts.TRANSITION([keys.volume(id)], [transitionArg('retype_finished')]);
        await this.d.publish({ volumeId: id, projectId: cur.projectId, status: 'available' });
      }
    });
    return this.get(caller, id);
  }

  /** Moves `cur`'s data to copies on `target` (claimed here; released again on failure), then drops the old copies and releases their pools. */
  private async migrate(cur: VolumeRecord, target: PoolState[], fields: string[]): Promise<void> {
    const id = cur.id;
    const claim = (await this.d.scripts.CLAIM_POOLS(target.map((p) => keys.pool(p.name)), [cur.sizeGb, ...target.map((p) => this.d.pools.limitOf(p.name))])) as number[];
    if (claim[0] !== 1) throw new ResourceExhaustedError(`pool ${target[claim[1]! - 1]!.name} full: needs ${cur.sizeGb} GB, ${claim[2]} GB provisioned`, 'pool_full');
    const newReplicas: ReplicaState[] = target.map((p) => ({ pool: p.name, storageNode: p.storageNode, state: 'ok' }));
    try {
      const from = await this.readableCopy(cur);
      for (const r of newReplicas) await this.d.blocks.copy(from, volumeCopy(id, r));
    } catch (e) {
      for (const r of newReplicas) await this.d.blocks.dropCopy(volumeCopy(id, r));
      await this.d.scripts.RELEASE_POOLS(target.map((p) => keys.pool(p.name)), [cur.sizeGb]);
      throw e;
    }
    await this.d.redis.hset(keys.volume(id), ...fields, 'replicas', JSON.stringify(newReplicas), 'pool', newReplicas[0]!.pool);
    for (const r of cur.replicas) await this.d.blocks.dropCopy(volumeCopy(id, r));
    await this.d.scripts.RELEASE_POOLS(cur.replicas.map((r) => keys.pool(r.pool)), [cur.sizeGb]);
  }
}
