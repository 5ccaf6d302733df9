import { IMAGE_STATUSES } from '@minicloud/domain-image';
import { Counter, Gauge, type Registry } from '@minicloud/platform-metrics';
import type { ImageRepository } from './store/image-repository';

/** The image service's own metrics (gRPC call metrics are recorded by the platform). */
export interface ImageMetrics {
  /** minicloud_image_upload_bytes_total: bytes received by UploadImage in this process. */
  uploadBytes: Counter;
}

/**
 * Registers on `registry`:
 * - minicloud_image_images{status}: images per status, read from Redis at scrape time (cloud-wide);
 * - minicloud_image_blob_store_bytes: bytes of referenced blobs (each content counted once);
 * - minicloud_image_upload_bytes_total: upload bytes received by this process.
 */
export function createImageMetrics(registry: Registry, repo: ImageRepository): ImageMetrics {
  new Gauge({
    name: 'minicloud_image_images',
    help: 'Images by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await repo.statusCounts();
      for (const s of IMAGE_STATUSES) this.set({ status: s }, counts[s]);
    },
  });
  new Gauge({
    name: 'minicloud_image_blob_store_bytes',
    help: 'Bytes held by the content-addressed blob store (identical content stored once).',
    registers: [registry],
    async collect() {
      this.set(await repo.blobStoreBytes());
    },
  });
  const uploadBytes = new Counter({
    name: 'minicloud_image_upload_bytes_total',
    help: 'Image bytes received by UploadImage.',
    registers: [registry],
  });
  return { uploadBytes };
}
