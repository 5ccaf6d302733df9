import { image } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { FailedPreconditionError } from '@minicloud/domain-errors';

/** What the volume service needs of an image: its state and sizes (bytes). */
export interface ImageInfo {
  id: string;
  active: boolean;
  sizeBytes: number;
  virtualSizeBytes: number;
}

/**
 * The image service as the volume service uses it (Cinder's glance client): image reads for
 * volume-from-image, and backup blobs stored as private images of the service project with the
 * property `minicloud_backup=true`.
 */
export interface ImageStore {
  /** Reads an image with the caller's token (so another project's private image is NOT_FOUND). @throws NotFoundError */
  getImage(imageId: string, userToken: string | undefined): Promise<ImageInfo>;
  /** Streams an image's bytes with the service token. */
  download(imageId: string): AsyncIterable<Uint8Array>;
  /** Stores bytes as a new private image with these properties; returns its id. */
  upload(name: string, properties: Record<string, string>, bytes: Buffer): Promise<string>;
  /** Deletes an image (missing: no-op). */
  delete(imageId: string): Promise<void>;
}

const CHUNK_BYTES = 1024 * 1024;

/**
 * {@link ImageStore} over the image service's gRPC API: `endpoint()` gives host:port (catalog),
 * `serviceToken()` the volume service's own token.
 */
export function grpcImageStore(opts: { endpoint: () => Promise<string>; serviceToken: () => Promise<string> }): ImageStore & { close(): void } {
  let client: ServiceClient<typeof image.ImageServiceService> | undefined;
  const get = async () => (client ??= createServiceClient(image.ImageServiceService, await opts.endpoint(), { deadlineMs: 120_000 }));
  const svc = async () => ({ token: await opts.serviceToken() });
  return {
    async getImage(imageId, userToken) {
      const c = await get();
      const res = await c.getImage({ imageId }, userToken ? { token: userToken } : await svc());
      const img = res.image!;
      return { id: img.id, active: img.status === image.ImageStatus.IMAGE_STATUS_ACTIVE, sizeBytes: Number(img.sizeBytes), virtualSizeBytes: Number(img.virtualSizeBytes || img.sizeBytes) };
    },
    async *download(imageId) {
      const c = await get();
      for await (const m of c.downloadImage({ imageId }, await svc())) yield m.chunk;
    },
    async upload(name, properties, bytes) {
      const c = await get();
      const meta = await svc();
      const { image: created } = await c.createImage({ name, diskFormat: 'raw', containerFormat: 'bare', visibility: image.ImageVisibility.IMAGE_VISIBILITY_PRIVATE, properties }, meta);
      const parts: image.UploadImageRequest[] = [{ imageId: created!.id }];
      for (let o = 0; o < bytes.length; o += CHUNK_BYTES) parts.push({ chunk: bytes.subarray(o, o + CHUNK_BYTES) });
      const res = await c.uploadImage(parts, meta);
      if (res.image?.status !== image.ImageStatus.IMAGE_STATUS_ACTIVE) throw new FailedPreconditionError(`backup image ${created!.id} not active after upload`, 'backup_upload_failed');
      return created!.id;
    },
    async delete(imageId) {
      const c = await get();
      try {
        await c.deleteImage({ imageId }, await svc());
      } catch (e) {
        if ((e as { code?: string }).code !== 'NOT_FOUND' && (e as Error).constructor?.name !== 'NotFoundError') throw e;
      }
    },
    close() {
      client?.close();
    },
  };
}
