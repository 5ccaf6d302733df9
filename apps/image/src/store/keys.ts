import { keyspace } from '@minicloud/platform-state';

const k = keyspace('image');

/**
 * Every Redis key of the image service (`mc:image:...`). Once every image is deleted only
 * `status_counts` (zeros) and `blob_store_bytes` (0) are left.
 */
export const keys = {
  /** Hash: one image record (snake_case fields, see image-repository.ts). */
  image: (id: string) => k('img', id),
  /** Set of every image id. */
  images: () => k('imgs'),
  /** Hash: member project id -> pending | accepted | rejected. */
  members: (imageId: string) => k('img', imageId, 'members'),
  /** Hash `{refs, size_bytes}` of one blob, by sha256 hex; gone when no image uses the blob. */
  blob: (sha256: string) => k('blob', sha256),
  /** Integer: bytes of every referenced blob (metric minicloud_image_blob_store_bytes). */
  blobStoreBytes: () => k('blob_store_bytes'),
  /** Hash: image status -> number of images in it (metric minicloud_image_images). */
  statusCounts: () => k('status_counts'),
};
