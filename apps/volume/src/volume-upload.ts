import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { Clock } from '@minicloud/domain-clock';
import { BLOCK_SIZE_BYTES, InvalidVolumeStatusError } from '@minicloud/domain-volume';
import type { Logger } from '@minicloud/platform-logging';
import type { Redis } from '@minicloud/platform-state';
import type { BlockStore } from './block-store';
import type { ImageStore } from './image-store';
import type { VolumeRecord } from './records';
import { transitionArg, type Caller, type StatusPublisher, type VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import type { Volumes } from './volumes';

/** Bytes per chunk of the image stream (the image service's upload chunk). */
const CHUNK_BYTES = 1024 * 1024;
const GIB = 1024 ** 3;

/**
 * How long an upload may run: the image client's deadline for one upload. A volume still uploading
 * after it, with no upload running in this process, was left by a restart (no replica can still be
 * streaming it): the resync gives it up.
 */
export const UPLOAD_DEADLINE_MS = 3_600_000;

/** Disk and container formats an upload can honestly produce: the volume's bytes as they are. */
const DISK_FORMATS = ['raw'];
const CONTAINER_FORMATS = ['bare'];

/** What {@link VolumeUpload} uses. */
export interface VolumeUploadDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'TRANSITION'>;
  volumes: Pick<Volumes, 'get' | 'read' | 'readableCopy'>;
  blocks: Pick<BlockStore, 'read' | 'map'>;
  images: ImageStore;
  publish: StatusPublisher;
  logger: Logger;
  clock: Clock;
}

/**
 * Cinder's os-volume_upload_image: an available volume's data becomes a new image of the caller's
 * project (created and uploaded with the caller's token, so the image service's scoping applies to
 * the caller). As Cinder does, the call returns once the image exists (queued) and the volume is
 * `uploading`; the bytes are copied in the background, then the volume is `available` again whatever
 * happened, and an image whose upload failed is deleted. Only `raw`/`bare` are produced: the bytes
 * are the volume's, unconverted (Cinder converts other formats with qemu-img, which this service has not).
 */
export class VolumeUpload {
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly d: VolumeUploadDeps) {}

  /**
   * Starts an upload.
   * @returns the volume (uploading) and the new image's id
   * @throws InvalidArgumentError('disk_format' | 'container_format' | 'image_name'), NotFoundError (also another
   *   project's volume), InvalidVolumeStatusError unless available, the image service's errors (the volume is available again)
   */
  async start(caller: Caller, input: { volumeId: string; imageName: string; diskFormat: string; containerFormat: string }): Promise<{ volume: VolumeRecord; imageId: string }> {
    const diskFormat = input.diskFormat || 'raw';
    const containerFormat = input.containerFormat || 'bare';
    if (!DISK_FORMATS.includes(diskFormat)) throw new InvalidArgumentError('disk_format', `"${diskFormat}" is not one this service can write: ${DISK_FORMATS.join(', ')} (no conversion)`);
    if (!CONTAINER_FORMATS.includes(containerFormat)) throw new InvalidArgumentError('container_format', `must be one of ${CONTAINER_FORMATS.join(', ')}`);
    if (!input.imageName) throw new InvalidArgumentError('image_name', 'must not be empty');
    const v = await this.d.volumes.get(caller, input.volumeId);
    const started = (await this.d.scripts.TRANSITION([keys.volume(v.id)], [transitionArg('upload_started')])) as [number, string];
    if (started[0] === -1) throw new NotFoundError('volume', v.id);
    if (started[0] === 0) throw new InvalidVolumeStatusError(started[1], 'upload to an image');
    let imageId: string;
    try {
      imageId = await this.d.images.createAs(caller.token, { name: input.imageName, diskFormat, containerFormat, properties: { source_volume_id: v.id } });
      await this.d.redis.hset(keys.volume(v.id), 'upload_image_id', imageId, 'upload_started_at_ms', String(this.d.clock.nowMs()));
    } catch (e) {
      await this.finish(v);
      throw e;
    }
    await this.d.publish({ volumeId: v.id, projectId: v.projectId, status: 'uploading' });
    const run = this.copy(caller, v, imageId).finally(() => this.running.delete(v.id));
    this.running.set(v.id, run);
    return { volume: await this.d.volumes.get(caller, v.id), imageId };
  }

  /** The background copy of a started upload; resolves when the volume is available again. */
  private async copy(caller: Caller, v: VolumeRecord, imageId: string): Promise<void> {
    try {
      const cur = (await this.d.volumes.read(v.id)) ?? v;
      const copy = await this.d.volumes.readableCopy(cur);
      const totalBytes = cur.sizeGb * GIB;
      const blocks = this.d.blocks;
      // a thin volume is mostly unwritten: chunks with no mapped block are one shared zero buffer
      const mapped = new Set(Object.keys(await blocks.map(copy)).map((i) => Math.floor((Number(i) * BLOCK_SIZE_BYTES) / CHUNK_BYTES)));
      const zeros = Buffer.alloc(CHUNK_BYTES);
      async function* bytes(): AsyncIterable<Buffer> {
        for (let o = 0; o < totalBytes; o += CHUNK_BYTES) {
          const length = Math.min(CHUNK_BYTES, totalBytes - o);
          yield mapped.has(o / CHUNK_BYTES) ? await blocks.read(copy, o, length) : zeros.subarray(0, length);
        }
      }
      await this.d.images.uploadInto(caller.token, imageId, bytes());
    } catch (err) {
      this.d.logger.warn({ err, volume_id: v.id, image_id: imageId }, 'volume upload to an image failed: the image is deleted');
      await this.d.images.delete(imageId).catch((e: unknown) => this.d.logger.warn({ err: e, image_id: imageId }, 'failed upload image not deleted'));
    } finally {
      await this.finish(v);
    }
  }

  /** Back to available (either way), the upload's fields cleared, the change published. */
  private async finish(v: Pick<VolumeRecord, 'id' | 'projectId'>): Promise<void> {
    await this.d.redis.hdel(keys.volume(v.id), 'upload_image_id', 'upload_started_at_ms');
    const done = (await this.d.scripts.TRANSITION([keys.volume(v.id)], [transitionArg('upload_finished')])) as number[];
    if (done[0] === 1) await this.d.publish({ volumeId: v.id, projectId: v.projectId, status: 'available' });
  }

  /** Resolves when the volume's upload running in this process (if any) has finished. */
  async settled(volumeId: string): Promise<void> {
    await this.running.get(volumeId);
  }

  /**
   * Resync: gives up an upload a restart left (uploading, none running here, started more than
   * {@link UPLOAD_DEADLINE_MS} ago): deletes its image and makes the volume available.
   * @returns true when it gave one up
   */
  async abandonIfLeft(volumeId: string): Promise<boolean> {
    if (this.running.has(volumeId)) return false;
    const [status, imageId, startedAt, projectId] = await this.d.redis.hmget(keys.volume(volumeId), 'status', 'upload_image_id', 'upload_started_at_ms', 'project_id');
    if (status !== 'uploading' || this.d.clock.nowMs() - Number(startedAt ?? 0) < UPLOAD_DEADLINE_MS) return false;
    if (imageId) await this.d.images.delete(imageId);
    await this.finish({ id: volumeId, projectId: projectId ?? '' });
    return true;
  }
}
