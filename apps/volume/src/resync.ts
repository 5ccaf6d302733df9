import type { Clock } from '@minicloud/domain-clock';
import type { Redis } from '@minicloud/platform-state';
import type { Replication } from './replication';
import { transitionArg, type VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import type { VolumeCreation } from './volume-creation';
import type { Volumes } from './volumes';
import type { VolumeUpload } from './volume-upload';

/** What {@link VolumeResync} uses. */
export interface VolumeResyncDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'TRANSITION'>;
  creation: Pick<VolumeCreation, 'finish' | 'isPending'>;
  volumes: Pick<Volumes, 'finishDeletion'>;
  replication: Pick<Replication, 'repairAll'>;
  upload: Pick<VolumeUpload, 'abandonIfLeft'>;
  clock: Clock;
  /** The creation delay, ms: a volume creating for longer with no local timer was left by a restart. */
  createDelayMs: number;
}

/** The periodic resync: what a restart interrupted is finished from Redis (level-triggered, idempotent). */
export class VolumeResync {
  constructor(private readonly d: VolumeResyncDeps) {}

  /**
   * One pass (safe to run on every instance): finishes volumes left in creating (no local creation
   * timer and older than the creation delay) or deleting by a restart, ends an extend interrupted
   * after its claim, gives up an upload to an image a restart left, and repairs lost copies.
   * @returns what it did, for logs and tests
   */
  async run(): Promise<{ created: string[]; deleted: string[]; repaired: string[] }> {
    const created: string[] = [];
    const deleted: string[] = [];
    const now = this.d.clock.nowMs();
    for (const id of await this.d.redis.smembers(keys.allVolumes())) {
      const st = await this.d.redis.hmget(keys.volume(id), 'status', 'created_at_ms');
      if (st[0] === 'creating' && !this.d.creation.isPending(id) && now - Number(st[1] ?? 0) >= this.d.createDelayMs) {
        await this.d.creation.finish(id);
        created.push(id);
      } else if (st[0] === 'deleting') {
        await this.d.volumes.finishDeletion(id);
        deleted.push(id);
      } else if (st[0] === 'uploading') {
        await this.d.upload.abandonIfLeft(id);
      } else if (st[0] === 'extending') {
        await this.d.scripts.TRANSITION([keys.volume(id)], [transitionArg('extend_succeeded')]);
      }
    }
    return { created, deleted, repaired: await this.d.replication.repairAll() };
  }
}
