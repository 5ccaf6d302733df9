import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import { ImageCache } from '@minicloud/domain-hypervisor';

/** Streams an image's bytes from the image service (DownloadImage), chunk by chunk. */
export type ImageSource = (imageId: string) => AsyncIterable<Uint8Array>;

/** What a spawn needs to know of its base image (the agent.v1.ImageRef fields used). */
export interface ImageWant {
  readonly imageId: string;
  /** Expected sha256, lowercase hex; empty skips the check. */
  readonly sha256: string;
}

/** Result of {@link ImageStore.acquire}: whether the image was already cached, and its size. */
export interface AcquiredImage {
  readonly cached: boolean;
  readonly sizeBytes: number;
}

/**
 * One host's base-image cache on disk (Nova's `_base` directory): files `<dir>/<image_id>`, the LRU
 * and pinning decided by the pure {@link ImageCache}. Concurrent acquires of one image share one
 * download. A download goes to `<id>.part`, is sha256-checked, then renamed into place.
 */
export class ImageStore {
  private readonly downloads = new Map<string, Promise<number>>();

  constructor(
    readonly dir: string,
    readonly cache: ImageCache,
    private readonly source: ImageSource,
  ) {}

  /**
   * Makes the image present and pins it (one pin per VM overlay); release with {@link release}.
   * @throws FailedPreconditionError reason "image_checksum_mismatch" when the bytes do not hash to
   *   `want.sha256`; ResourceExhaustedError "image_cache_full" when pinned images leave no room;
   *   whatever the image source throws (e.g. NotFoundError for a missing image).
   */
  async acquire(want: ImageWant): Promise<AcquiredImage> {
    if (!want.imageId) throw new InvalidArgumentError('spawn.spec.image.image_id', 'must not be empty');
    if (this.cache.has(want.imageId) && !this.downloads.has(want.imageId)) {
      this.cache.touch(want.imageId);
      this.cache.pin(want.imageId);
      return { cached: true, sizeBytes: this.sizeOf(want.imageId) };
    }
    let download = this.downloads.get(want.imageId);
    if (!download) {
      download = this.download(want).finally(() => this.downloads.delete(want.imageId));
      this.downloads.set(want.imageId, download);
    }
    const sizeBytes = await download;
    // Another VM's release may have let an add() evict it meanwhile; only a present image can be pinned.
    if (!this.cache.has(want.imageId)) return this.acquire(want);
    this.cache.pin(want.imageId);
    return { cached: false, sizeBytes };
  }

  /** Drops one pin (a VM overlay went away); the image stays cached until the LRU evicts it. */
  release(imageId: string): void {
    this.cache.unpin(imageId);
  }

  /** Cached image ids, least recently used first. */
  cachedImageIds(): string[] {
    return this.cache.entries().map((e) => e.imageId);
  }

  private sizeOf(imageId: string): number {
    return this.cache.entries().find((e) => e.imageId === imageId)?.sizeBytes ?? 0;
  }

  private async download(want: ImageWant): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    const final = join(this.dir, want.imageId);
    const part = `${final}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(part);
    try {
      for await (const chunk of this.source(want.imageId)) {
        hash.update(chunk);
        size += chunk.byteLength;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const digest = hash.digest('hex');
      if (want.sha256 && digest !== want.sha256.toLowerCase()) {
        throw new FailedPreconditionError(`image ${want.imageId} checksum mismatch: expected sha256 ${want.sha256}, got ${digest}`, 'image_checksum_mismatch');
      }
      const victims = this.cache.add(want.imageId, size);
      await rename(part, final);
      await Promise.all(victims.map((id) => rm(join(this.dir, id), { force: true })));
      return size;
    } catch (e) {
      out.destroy();
      await rm(part, { force: true });
      throw e;
    }
  }

  /** Size of the cached file on disk (tests and diagnostics). */
  async fileSizeBytes(imageId: string): Promise<number | undefined> {
    return stat(join(this.dir, imageId)).then((s) => s.size, () => undefined);
  }
}
