import { createHash, randomUUID } from 'node:crypto';
import { image } from '@minicloud/proto';
import { isCloudAdmin } from '@minicloud/platform-auth';
import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { service, type CallContext, type ServiceRegistration } from '@minicloud/platform-grpc';

/** An image as the fake holds it. */
export interface FakeImage {
  image: image.Image;
  /** The bytes, for uploads up to {@link SPARSE_ABOVE_BYTES}; larger ones keep only their non-zero chunks in `nonZeroChunks`. */
  bytes: Buffer;
  /** Offset -> chunk, for uploads larger than {@link SPARSE_ABOVE_BYTES} (a 1 GB volume is mostly zeros). */
  nonZeroChunks?: Map<number, Buffer>;
}

/** Uploads larger than this are kept sparse (not downloadable from the fake). */
export const SPARSE_ABOVE_BYTES = 64 * 1024 * 1024;

/**
 * A small in-memory stand-in for the image service's gRPC API (GetImage, DownloadImage, CreateImage,
 * UploadImage, DeleteImage with Glance's owner/public visibility), so the volume service's image
 * adapter is exercised over real gRPC in its integration tests without importing another app.
 * `virtualSizeBytes` of an upload can be forced through the `test_virtual_size_bytes` property, and
 * an upload fails at once (INVALID_ARGUMENT, as a refused format would) for an image named `refuse-upload`.
 */
export function fakeImageService(): { registration: ServiceRegistration; images: Map<string, FakeImage>; downloads: string[] } {
  const images = new Map<string, FakeImage>();
  const downloads: string[] = [];
  const visible = (img: FakeImage | undefined, projectId: string, admin: boolean) =>
    !!img && (admin || img.image.ownerProjectId === projectId || img.image.visibility === image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC);
  const find = (id: string, ctx: CallContext) => {
    const img = images.get(id);
    if (!visible(img, ctx.auth?.projectId ?? '', isCloudAdmin(ctx.auth))) throw new NotFoundError('image', id);
    return img!;
  };
  const notUsed = async (): Promise<never> => {
    throw new Error('not used by the volume service');
  };
  const registration = service({
    definition: image.ImageServiceService,
    handlers: {
      async createImage(req, ctx) {
        const img = image.Image.fromPartial({
          id: randomUUID(),
          name: req.name,
          status: image.ImageStatus.IMAGE_STATUS_QUEUED,
          diskFormat: req.diskFormat || 'raw',
          containerFormat: req.containerFormat || 'bare',
          visibility: req.visibility || image.ImageVisibility.IMAGE_VISIBILITY_PRIVATE,
          ownerProjectId: ctx.auth?.projectId ?? '',
          properties: req.properties,
        });
        images.set(img.id, { image: img, bytes: Buffer.alloc(0) });
        return { image: img };
      },
      async uploadImage(reqs, ctx) {
        let id = '';
        const parts: Buffer[] = [];
        const nonZero = new Map<number, Buffer>();
        const hash = createHash('sha256');
        let size = 0;
        for await (const r of reqs) {
          if (r.imageId) id = r.imageId;
          if (images.get(id)?.image.name === 'refuse-upload') throw new InvalidArgumentError('disk_format', 'refused by the fake');
          if (!r.chunk || r.chunk.length === 0) continue;
          const chunk = Buffer.from(r.chunk);
          hash.update(chunk);
          if (!chunk.equals(Buffer.alloc(chunk.length))) nonZero.set(size, chunk);
          size += chunk.length;
          if (size <= SPARSE_ABOVE_BYTES) parts.push(chunk);
          else parts.length = 0;
        }
        const img = find(id, ctx);
        img.bytes = size <= SPARSE_ABOVE_BYTES ? Buffer.concat(parts) : Buffer.alloc(0);
        if (size > SPARSE_ABOVE_BYTES) img.nonZeroChunks = nonZero;
        const forced = Number(img.image.properties.test_virtual_size_bytes ?? 0);
        img.image = { ...img.image, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, sizeBytes: size, virtualSizeBytes: forced || size, osHashAlgo: 'sha256', osHashValue: hash.digest('hex') };
        return { image: img.image };
      },
      async *downloadImage(req, ctx) {
        const img = find(req.imageId, ctx);
        downloads.push(req.imageId);
        for (let o = 0; o < img.bytes.length; o += 100_000) yield { chunk: img.bytes.subarray(o, o + 100_000) };
      },
      async getImage(req, ctx) {
        return { image: find(req.imageId, ctx).image };
      },
      async deleteImage(req, ctx) {
        find(req.imageId, ctx);
        images.delete(req.imageId);
        return {};
      },
      listImages: notUsed,
      updateImage: notUsed,
      deactivateImage: notUsed,
      reactivateImage: notUsed,
      addImageMember: notUsed,
      updateImageMember: notUsed,
      removeImageMember: notUsed,
      listImageMembers: notUsed,
    },
  });
  return { registration, images, downloads };
}
