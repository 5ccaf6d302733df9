import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';

/** One cached base image. */
export interface CachedImage {
  readonly imageId: string;
  readonly sizeBytes: number;
}

/**
 * The host's local cache of base images (Nova's `_base` directory), least-recently-used by bytes.
 * Adding past `capacityBytes` evicts the least recently used images that are not pinned. An image is
 * pinned while VMs' QCOW2 overlays use it as backing file (Nova's image cache manager never removes a
 * base image in use). Pure in-memory state; no I/O.
 */
export class ImageCache {
  // Map iteration order is insertion order: first = least recently used.
  private readonly images = new Map<string, number>();
  private readonly pins = new Map<string, number>();
  private used = 0;

  /** @throws InvalidArgumentError (`capacity_bytes`) unless a non-negative finite number. */
  constructor(readonly capacityBytes: number) {
    if (!(capacityBytes >= 0) || !Number.isFinite(capacityBytes)) throw new InvalidArgumentError('capacity_bytes', `must be >= 0, got ${capacityBytes}`);
  }

  /** Bytes held by cached images. */
  get usedBytes(): number {
    return this.used;
  }

  has(imageId: string): boolean {
    return this.images.has(imageId);
  }

  /** Cached images, least recently used first. */
  entries(): CachedImage[] {
    return [...this.images].map(([imageId, sizeBytes]) => ({ imageId, sizeBytes }));
  }

  /** Marks an image as just used. Returns false when it is not cached. */
  touch(imageId: string): boolean {
    const size = this.images.get(imageId);
    if (size === undefined) return false;
    this.images.delete(imageId);
    this.images.set(imageId, size);
    return true;
  }

  /**
   * Caches an image (or touches it when present) and evicts unpinned LRU images to make room.
   * @returns the ids evicted, oldest first
   * @throws InvalidArgumentError (`size_bytes`) for a negative size; ResourceExhaustedError
   *   (reason "image_cache_full") when pinned images leave no room; nothing is evicted then.
   */
  add(imageId: string, sizeBytes: number): string[] {
    if (!(sizeBytes >= 0) || !Number.isFinite(sizeBytes)) throw new InvalidArgumentError('size_bytes', `must be >= 0, got ${sizeBytes}`);
    if (this.touch(imageId)) return [];
    const victims: string[] = [];
    let free = this.capacityBytes - this.used;
    for (const [id, size] of this.images) {
      if (free >= sizeBytes) break;
      if (this.isPinned(id)) continue;
      victims.push(id);
      free += size;
    }
    if (free < sizeBytes) {
      throw new ResourceExhaustedError(
        `image cache cannot hold image ${imageId} (${sizeBytes} bytes): capacity ${this.capacityBytes}, pinned ${this.pinnedBytes()}`,
        'image_cache_full',
      );
    }
    victims.forEach((id) => this.evict(id));
    this.images.set(imageId, sizeBytes);
    this.used += sizeBytes;
    return victims;
  }

  /** Removes an image (whether pinned or not: the caller decides). Returns false when not cached. */
  evict(imageId: string): boolean {
    const size = this.images.get(imageId);
    if (size === undefined) return false;
    this.images.delete(imageId);
    this.pins.delete(imageId);
    this.used -= size;
    return true;
  }

  /** Adds one user (a VM overlay backed by the image); a pinned image is never evicted by `add`. */
  pin(imageId: string): void {
    if (!this.images.has(imageId)) throw new InvalidArgumentError('image_id', `image ${imageId} is not cached`);
    this.pins.set(imageId, (this.pins.get(imageId) ?? 0) + 1);
  }

  /** Removes one user; extra unpins are ignored. */
  unpin(imageId: string): void {
    const n = this.pins.get(imageId) ?? 0;
    if (n <= 1) this.pins.delete(imageId);
    else this.pins.set(imageId, n - 1);
  }

  isPinned(imageId: string): boolean {
    return (this.pins.get(imageId) ?? 0) > 0;
  }

  private pinnedBytes(): number {
    let total = 0;
    for (const [id, size] of this.images) if (this.isPinned(id)) total += size;
    return total;
  }
}
