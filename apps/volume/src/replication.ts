import { placeReplicas, replicationStatusOf, type PoolState, type ReplicaState } from '@minicloud/domain-volume';
import type { Logger } from '@minicloud/platform-logging';
import type { Redis } from '@minicloud/platform-state';
import type { BlockStore } from './block-store';
import type { KeyedMutex } from './keyed-mutex';
import type { Pools } from './pools';
import { snapshotCopy, snapshotHash, volumeCopy, type VolumeRecord } from './records';
import type { StatusPublisher, VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import type { Volumes } from './volumes';
import type { VolumeTypes } from './volume-types';

/** Counters the replication bumps (metrics adapter). */
export interface VolumeCounters {
  replicaLost(pool: string): void;
  replicaRepaired(pool: string): void;
}

/** What {@link Replication} uses. */
export interface ReplicationDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'CLAIM_POOLS' | 'RELEASE_POOLS'>;
  volumes: Pick<Volumes, 'read' | 'readableCopy'>;
  types: Pick<VolumeTypes, 'get'>;
  pools: Pools;
  blocks: BlockStore;
  locks: KeyedMutex;
  logger: Logger;
  publish: StatusPublisher;
  counters?: VolumeCounters;
  /** Cinder's capacity_weight_multiplier (1 spreads, -1 stacks), for the pool a repair picks. */
  capacityWeightMultiplier: number;
}

/**
 * Copies of replicated volumes: losing them with their pool or storage node, getting them back, and
 * repairing a degraded volume onto another node (Cinder's replication with a scheduler pick).
 */
export class Replication {
  constructor(private readonly d: ReplicationDeps) {}

  /**
   * Marks pools up or down (by name, or every pool of a storage node). Down: the copies on them are
   * lost (reported: event `replication_degraded`, counter) and repaired onto other nodes when
   * possible. Up: a volume whose every copy was lost gets its copies back (the node returned with
   * its disks); others get repaired onto the returned node if still degraded.
   * @throws InvalidArgumentError('pool') when neither pool nor storage_node names a configured pool
   * @returns the volumes degraded and repaired by this call
   */
  async setPoolState(input: { pool?: string; storageNode?: string; up: boolean }): Promise<{ degraded: string[]; repaired: string[] }> {
    const names = await this.d.pools.mark(input);
    const degraded: string[] = [];
    const affected = new Set(names);
    for (const id of await this.d.redis.smembers(keys.allVolumes())) {
      await this.d.locks.run(id, async () => {
        const v = await this.d.volumes.read(id);
        if (!v) return;
        const replicas = input.up ? this.returned(v, affected) : this.lost(v, affected);
        if (!replicas) return;
        const firstOk = replicas.find((r) => r.state === 'ok');
        await this.d.redis.hset(keys.volume(id), 'replicas', JSON.stringify(replicas), ...(firstOk ? ['pool', firstOk.pool] : []));
        if (!input.up) {
          degraded.push(id);
          this.d.logger.warn({ volume_id: id, pools: names }, 'volume copy lost');
          const st = replicationStatusOf(replicas, v.replicationCount);
          await this.d.publish({ volumeId: id, projectId: v.projectId, status: `replication_${st === 'disabled' ? 'error' : st}` });
        }
      });
    }
    const repaired = await this.repairAll();
    return { degraded, repaired };
  }

  /** `v`'s replicas with the ok ones on `pools` lost (counted), or undefined when none was there. */
  private lost(v: VolumeRecord, pools: Set<string>): ReplicaState[] | undefined {
    let changed = false;
    const replicas = v.replicas.map((r) => {
      if (r.state !== 'ok' || !pools.has(r.pool)) return r;
      changed = true;
      this.d.counters?.replicaLost(r.pool);
      return { ...r, state: 'lost' as const };
    });
    return changed ? replicas : undefined;
  }

  /** For a volume whose every copy was lost: the copies on `pools` back, or undefined when nothing changes. */
  private returned(v: VolumeRecord, pools: Set<string>): ReplicaState[] | undefined {
    if (!v.replicas.every((r) => r.state === 'lost') || !v.replicas.some((r) => pools.has(r.pool))) return undefined;
    return v.replicas.map((r) => (pools.has(r.pool) ? { ...r, state: 'ok' as const } : r));
  }

  /**
   * Repairs every volume with a lost copy and a healthy one: a new copy on a pool of another storage
   * node (Cinder's filters/weigher; capacity claimed), data copied from a healthy copy, the lost copy
   * dropped and its capacity released. Volumes with no node available stay degraded (retried by the
   * resync). Idempotent.
   * @returns ids of the repaired volumes
   */
  async repairAll(): Promise<string[]> {
    const repaired: string[] = [];
    for (const id of await this.d.redis.smembers(keys.allVolumes())) {
      try {
        if (await this.repairVolume(id)) repaired.push(id);
      } catch (e) {
        this.d.logger.warn({ err: e, volume_id: id }, 'volume repair failed; will retry');
      }
    }
    return repaired;
  }

  private async repairVolume(id: string): Promise<boolean> {
    return this.d.locks.run(id, async () => {
      const v = await this.d.volumes.read(id);
      if (!v || !v.replicas.some((r) => r.state === 'lost') || !v.replicas.some((r) => r.state === 'ok')) return false;
      if (v.status === 'creating' || v.status === 'deleting') return false;
      const type = await this.d.types.get(v.volumeType).catch(() => ({ name: v.volumeType, extraSpecs: {} }));
      let replicas = [...v.replicas];
      let any = false;
      for (const lost of v.replicas.filter((r) => r.state === 'lost')) {
        const pools = await this.d.pools.list();
        let target: PoolState;
        try {
          [target] = placeReplicas(pools, { sizeGb: v.sizeGb, volumeType: { name: type.name, extraSpecs: type.extraSpecs } }, 1, {
            capacityWeightMultiplier: this.d.capacityWeightMultiplier,
            excludeNodes: replicas.filter((r) => r.state === 'ok').map((r) => r.storageNode),
          }) as [PoolState];
        } catch {
          break;
        }
        const claim = (await this.d.scripts.CLAIM_POOLS([keys.pool(target.name)], [v.sizeGb, this.d.pools.limitOf(target.name)])) as number[];
        if (claim[0] !== 1) break;
        const fresh: ReplicaState = { pool: target.name, storageNode: target.storageNode, state: 'ok' };
        const from = await this.d.volumes.readableCopy({ ...v, replicas });
        await this.d.blocks.copy(from, volumeCopy(id, fresh));
        await this.repairSnapshots(id, replicas, lost, fresh);
        replicas = replicas.map((r) => (r === lost || (r.pool === lost.pool && r.state === 'lost') ? fresh : r));
        await this.d.redis.hset(keys.volume(id), 'replicas', JSON.stringify(replicas), 'pool', replicas.find((r) => r.state === 'ok')!.pool);
        // The same pool back up: the fresh copy already replaced the stale one under the same key.
        if (fresh.pool !== lost.pool) await this.d.blocks.dropCopy(volumeCopy(id, lost));
        await this.d.scripts.RELEASE_POOLS([keys.pool(lost.pool)], [v.sizeGb]);
        this.d.counters?.replicaRepaired(target.name);
        this.d.logger.info({ volume_id: id, lost_pool: lost.pool, new_pool: target.name }, 'volume copy repaired');
        any = true;
      }
      if (any) await this.d.publish({ volumeId: id, projectId: v.projectId, status: `replication_${replicationStatusOf(replicas, v.replicationCount)}` });
      return any;
    });
  }

  /** Gives each snapshot of the volume a copy on `fresh` (from a copy on a healthy pool) in place of its copy on `lost`. */
  private async repairSnapshots(volumeId: string, replicas: ReplicaState[], lost: ReplicaState, fresh: ReplicaState): Promise<void> {
    for (const sid of await this.d.redis.smembers(keys.volumeSnapshots(volumeId))) {
      const snap = snapshotHash.fromHash(await this.d.redis.hgetall(keys.snapshot(sid)));
      const src = snap?.copies.find((c) => replicas.some((r) => r.pool === c.pool && r.state === 'ok'));
      if (!snap || !src) continue;
      await this.d.blocks.copy(snapshotCopy(sid, src), snapshotCopy(sid, fresh));
      const copies = [...snap.copies.filter((c) => c.pool !== lost.pool), { pool: fresh.pool, storageNode: fresh.storageNode }];
      await this.d.redis.hset(keys.snapshot(sid), 'copies', JSON.stringify(copies));
      if (fresh.pool !== lost.pool) await this.d.blocks.dropCopy(snapshotCopy(sid, lost));
    }
  }

  /** Copies by state (ok / lost) and volumes by replication status (metrics). */
  async replicaCounts(): Promise<{ copies: Map<string, number>; replication: Map<string, number> }> {
    const copies = new Map<string, number>();
    const replication = new Map<string, number>();
    for (const id of await this.d.redis.smembers(keys.allVolumes())) {
      const v = await this.d.volumes.read(id);
      if (!v) continue;
      for (const r of v.replicas) copies.set(r.state, (copies.get(r.state) ?? 0) + 1);
      const st = replicationStatusOf(v.replicas, v.replicationCount);
      replication.set(st, (replication.get(st) ?? 0) + 1);
    }
    return { copies, replication };
  }
}
