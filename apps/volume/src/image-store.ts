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
  /** Creates an image (queued) with the user's token, so it belongs to the user's project; returns its id. */
  createAs(userToken: string | undefined, meta: { name: string; diskFormat: string; containerFormat: string; properties: Record<string, string> }): Promise<string>;
  /** Uploads `bytes` into an image created by {@link createAs} with the same token. @throws when it is not active after */
  uploadInto(userToken: string | undefined, imageId: string, bytes: AsyncIterable<Buffer>): Promise<void>;
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
    async createAs(userToken, meta) {
      const c = await get();
      const { image: created } = await c.createImage({ ...meta, visibility: image.ImageVisibility.IMAGE_VISIBILITY_PRIVATE }, userToken ? { token: userToken } : await svc());
      return created!.id;
    },
    async uploadInto(userToken, imageId, bytes) {
      const c = await get();
      async function* parts(): AsyncIterable<image.UploadImageRequest> {
        yield { imageId };
        for await (const chunk of bytes) yield { chunk };
      }
      const res = await c.uploadImage(parts(), userToken ? { token: userToken, deadlineMs: 3_600_000 } : await svc());
      if (res.image?.status !== image.ImageStatus.IMAGE_STATUS_ACTIVE) throw new FailedPreconditionError(`image ${imageId} not active after upload`, 'image_upload_failed');
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
