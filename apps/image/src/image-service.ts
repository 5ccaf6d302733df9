import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
} from '@minicloud/domain-errors';
import {
  createFormatInspector,
  GLANCE_CONTAINER_FORMATS,
  isGlanceDiskFormat,
  isUninspectedDiskFormat,
  transition,
  validateImageUpload,
  type ImageEvent,
  type ImageStatus,
} from '@minicloud/domain-image';
import type { BlobDigest, BlobStore, BlobWriter } from './blob-store';
import { canModifyImage, canSeeImage, isListedFor, type Viewer } from './image-access';
import type { ImageRecord, ImageVisibility, MemberStatus } from './image-record';
import { checkMinimums, checkName, checkProperties, checkTags, nextTags } from './image-validation';
import type { ImageRepository } from './store/image-repository';

/** Glance's container formats (a label nothing inspects); '' at create means bare. */
export const CONTAINER_FORMATS = GLANCE_CONTAINER_FORMATS;
/** Default and largest page of ListImages (Glance: limit default 25, api_limit_max 1000; we default to 100). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Who calls and on which request; `signal` aborts when the client cancels. */
export interface Caller {
  viewer: Viewer;
  requestId: string;
  signal?: AbortSignal;
}

/** Fields of a new image (CreateImage); visibility undefined = private. */
export interface CreateImageInput {
  name: string;
  diskFormat: string;
  containerFormat: string;
  visibility?: ImageVisibility;
  protected: boolean;
  minRamMb: number;
  minDiskGb: number;
  properties: Record<string, string>;
  sourceInstanceId: string;
  tags?: string[];
}

/** UpdateImage: undefined fields are left alone. */
export interface UpdateImageInput {
  name?: string;
  visibility?: ImageVisibility;
  protected?: boolean;
  minRamMb?: number;
  minDiskGb?: number;
  setProperties: Record<string, string>;
  removeProperties: string[];
  addTags?: string[];
  removeTags?: string[];
}

/** One message of an upload stream: the first carries `imageId`, the others `chunk`. */
export interface UploadPart {
  imageId?: string;
  chunk?: Uint8Array;
}

/** ListImages filters (undefined = any) and page. */
export interface ListImagesInput {
  name?: string;
  status?: ImageStatus;
  visibility?: ImageVisibility;
  pageSize: number;
  pageToken: string;
}

/** An image member as returned by the members API. */
export interface ImageMemberView {
  imageId: string;
  memberProjectId: string;
  status: MemberStatus;
}

/** Collaborators of {@link ImageService}. */
export interface ImageServiceDeps {
  repo: ImageRepository;
  blobs: BlobStore;
  /** Upload size cap in bytes (IMAGE_MAX_BYTES). */
  maxBytes: number;
  /** Glance's require_image_format_match (IMAGE_REQUIRE_FORMAT_MATCH): false keeps a mismatched declared format. */
  requireFormatMatch: boolean;
  nowMs: () => number;
  newId: () => string;
  /** Told after every status change (publishes events.ImageStatusChanged); must not throw. */
  onStatusChanged: (image: ImageRecord, requestId: string) => Promise<void>;
  /** Told of every uploaded chunk's length (metric minicloud_image_upload_bytes_total). */
  onUploadBytes: (bytes: number) => void;
}

/**
 * Glance v2's image API over the repository (records in Redis) and the blob store (bytes on disk).
 * Every method scopes by the caller's project: another project's private image is NOT_FOUND;
 * a visible image the caller may not change is PERMISSION_DENIED. Errors are typed minicloud errors.
 */
export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  /**
   * Creates an image record in status queued, owned by the caller's project. With
   * `sourceInstanceId` it is an instance snapshot (Nova's createImage: the controller creates the
   * record, then uploads the snapshot bytes, e.g. `buildSnapshotQcow2` of the root disk): the
   * properties `image_type=snapshot` and `instance_uuid=<id>` are set unless the request's
   * properties give them (Nova lays the snapshot request's metadata over its own, so a caller's
   * image_type wins).
   * @throws InvalidArgumentError naming name | disk_format | container_format | min_ram_mb | min_disk_gb | properties;
   *   PermissionDeniedError when a non-admin asks for visibility public
   */
  async create(caller: Caller, input: CreateImageInput): Promise<ImageRecord> {
    checkName(input.name);
    if (input.diskFormat !== '' && !isGlanceDiskFormat(input.diskFormat)) {
      throw new InvalidArgumentError('disk_format', `unsupported disk format "${input.diskFormat}"`);
    }
    const containerFormat = input.containerFormat || 'bare';
    if (!(CONTAINER_FORMATS as readonly string[]).includes(containerFormat)) {
      throw new InvalidArgumentError('container_format', `must be one of ${CONTAINER_FORMATS.join(', ')}`);
    }
    checkMinimums(input);
    checkProperties(input.properties);
    checkTags(input.tags ?? [], 'tags');
    const visibility = input.visibility ?? 'private';
    if (visibility === 'public' && !caller.viewer.admin) throw new PermissionDeniedError('only an admin may publish a public image');
    const now = this.d.nowMs();
    const image = await this.d.repo.create({
      id: this.d.newId(),
      name: input.name,
      status: 'queued',
      diskFormat: input.diskFormat,
      containerFormat,
      sizeBytes: 0,
      virtualSizeBytes: 0,
      checksumMd5: '',
      osHashAlgo: '',
      osHashValue: '',
      visibility,
      protected: input.protected,
      ownerProjectId: caller.viewer.projectId,
      minRamMb: input.minRamMb,
      minDiskGb: input.minDiskGb,
      properties: input.sourceInstanceId ? { image_type: 'snapshot', instance_uuid: input.sourceInstanceId, ...input.properties } : input.properties,
      tags: nextTags([], input.tags ?? [], [], 'tags'),
      createdAtMs: now,
      updatedAtMs: now,
      sourceInstanceId: input.sourceInstanceId,
      hasBlob: false,
    });
    await this.d.onStatusChanged(image, caller.requestId);
    return image;
  }

  /**
   * Receives an image's bytes: the first part names the image, the rest are chunks. The image goes
   * queued -> saving while streaming; sha256, md5 and the disk format are computed on the fly into
   * a temp file. On success the upload is validated (validateImageUpload), the blob committed
   * (stored once per content) and the image goes active with size, virtual size, detected
   * disk_format, checksum_md5 and os_hash sha256. On any failure the temp file is deleted and the
   * image goes back to queued, or to killed when the bytes were refused (format mismatch, unsafe
   * or truncated image).
   * @throws InvalidArgumentError('image_id') when the first part has no id; NotFoundError;
   *   PermissionDeniedError (not the owner); FailedPreconditionError (status not queued);
   *   ResourceExhaustedError (reason image_size_cap) past IMAGE_MAX_BYTES;
   *   InvalidArgumentError('disk_format') from validateImageUpload; InvalidArgumentError('chunk') for no data
   */
  async upload(caller: Caller, parts: AsyncIterable<UploadPart>): Promise<ImageRecord> {
    const it = parts[Symbol.asyncIterator]();
    const first = await nextOrAbort(it, caller.signal);
    const imageId = first.done ? '' : (first.value.imageId ?? '');
    if (!imageId) throw new InvalidArgumentError('image_id', 'the first message of an upload must carry the image id');
    const image = await this.modifiable(caller, imageId);
    await this.move(caller, image.id, 'upload_started');

    let writer: BlobWriter | undefined;
    let failure: ImageEvent = 'upload_failed';
    try {
      writer = await this.d.blobs.createWriter();
      const inspector = createFormatInspector();
      for (;;) {
        const next = await nextOrAbort(it, caller.signal);
        if (next.done) break;
        if (next.value.imageId) throw new InvalidArgumentError('image_id', 'only the first message may carry the image id');
        const chunk = next.value.chunk;
        if (!chunk || chunk.length === 0) continue;
        if (writer.sizeBytes + chunk.length > this.d.maxBytes) {
          throw new ResourceExhaustedError(`upload exceeds the limit of ${this.d.maxBytes} bytes`, 'image_size_cap');
        }
        await writer.write(chunk);
        inspector.push(chunk);
        this.d.onUploadBytes(chunk.length);
      }
      if (writer.sizeBytes === 0) throw new InvalidArgumentError('chunk', 'the upload carried no image data');
      const digest = await writer.finish();
      // grpc-js may end the request stream before it reports the client's cancel (RST_STREAM after
      // the half-close): let the cancel arrive (the fsync above took several turns) and check
      // again, so a cancelled partial upload never becomes active (nor killed).
      await new Promise((r) => setImmediate(r));
      if (caller.signal?.aborted) throw cancelled();
      const detected = inspector.result(writer.sizeBytes);
      failure = 'upload_killed';
      validateImageUpload({
        declaredFormat: image.diskFormat || detected.format,
        detected,
        totalBytes: writer.sizeBytes,
        maxBytes: this.d.maxBytes,
        requireFormatMatch: this.d.requireFormatMatch,
      });
      failure = 'upload_failed';
      // a declared format the inspector cannot read (ami, vdi...), or one the operator lets differ
      // from the bytes, stays what the owner said it is
      const keepDeclared = image.diskFormat !== '' && (isUninspectedDiskFormat(image.diskFormat) || !this.d.requireFormatMatch);
      const diskFormat = keepDeclared ? image.diskFormat : detected.format;
      return await this.activate(caller, imageId, writer, digest, diskFormat, detected.virtualSizeBytes);
    } catch (e) {
      await writer?.abort();
      // Only from saving (transition refuses otherwise, e.g. when the image was deleted meanwhile).
      await this.move(caller, imageId, failure).catch(() => undefined);
      throw e;
    }
  }

  /** Commits the blob and marks the image active, atomically with its reference count. */
  private activate(
    caller: Caller,
    imageId: string,
    writer: BlobWriter,
    digest: BlobDigest,
    diskFormat: string,
    virtualSizeBytes: number,
  ): Promise<ImageRecord> {
    const { sha256 } = digest;
    return this.d.blobs.withLock(sha256, async () => {
      await writer.commit();
      try {
        const image = await this.d.repo.mutate(
          imageId,
          (cur) => ({
            status: transition(cur.status, 'upload_succeeded'),
            diskFormat,
            sizeBytes: digest.sizeBytes,
            virtualSizeBytes,
            checksumMd5: digest.md5,
            osHashAlgo: 'sha256',
            osHashValue: sha256,
            hasBlob: true,
            updatedAtMs: this.d.nowMs(),
          }),
          { refBlob: { sha256, sizeBytes: digest.sizeBytes } },
        );
        await this.d.onStatusChanged(image, caller.requestId);
        return image;
      } catch (e) {
        // The image went away (or changed) while streaming: keep no unreferenced blob.
        if ((await this.d.repo.blobRefs(sha256)) === 0) await this.d.blobs.remove(sha256);
        throw e;
      }
    });
  }

  /**
   * The image's bytes in 1 MiB chunks. Checks run before the first chunk.
   * @throws NotFoundError; FailedPreconditionError (reason image_deactivated for non-admins, or
   *   invalid_image_status when the image has no data)
   */
  async download(caller: Caller, imageId: string): Promise<AsyncIterable<Buffer>> {
    const image = await this.visible(caller, imageId);
    if (image.status === 'deactivated' && !caller.viewer.admin) {
      throw new FailedPreconditionError(`image ${imageId} is deactivated: its data cannot be downloaded`, 'image_deactivated');
    }
    if (!image.hasBlob || (image.status !== 'active' && image.status !== 'deactivated')) {
      throw new FailedPreconditionError(`image ${imageId} has no data: status is ${image.status}`, 'invalid_image_status');
    }
    return this.d.blobs.read(image.osHashValue);
  }

  /** @throws NotFoundError('image', id) when absent or not visible to the caller */
  get(caller: Caller, imageId: string): Promise<ImageRecord> {
    return this.visible(caller, imageId);
  }

  /**
   * Images listed for the caller (see isListedFor), filtered, oldest first, paged by an opaque token.
   * @throws InvalidArgumentError('page.page_size' | 'page.page_token')
   */
  async list(caller: Caller, q: ListImagesInput): Promise<{ images: ImageRecord[]; nextPageToken: string }> {
    if (q.pageSize < 0) throw new InvalidArgumentError('page.page_size', 'must not be negative');
    const size = Math.min(q.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const after = q.pageToken ? decodePageToken(q.pageToken) : undefined;
    const all = await this.d.repo.all();
    const memberships = await this.d.repo.memberStatuses(
      all.map((i) => i.id),
      caller.viewer.projectId,
    );
    const matching = all
      .filter((img, i) => isListedFor(img, caller.viewer, memberships[i], q.visibility))
      .filter((img) => (q.name === undefined || img.name === q.name) && (q.status === undefined || img.status === q.status))
      .sort(byCreation)
      .filter((img) => !after || byCreation(img, after) > 0);
    const images = matching.slice(0, size);
    const last = images[images.length - 1];
    return { images, nextPageToken: matching.length > size && last ? encodePageToken(last) : '' };
  }

  /**
   * Changes an image's metadata (owner or admin).
   * @throws NotFoundError; PermissionDeniedError (not the owner, or public without admin);
   *   InvalidArgumentError naming the field
   */
  async update(caller: Caller, imageId: string, patch: UpdateImageInput): Promise<ImageRecord> {
    if (patch.name !== undefined) checkName(patch.name);
    checkMinimums({ minRamMb: patch.minRamMb ?? 0, minDiskGb: patch.minDiskGb ?? 0 });
    checkProperties(patch.setProperties);
    checkTags(patch.addTags ?? [], 'add_tags');
    if (patch.visibility === 'public' && !caller.viewer.admin) throw new PermissionDeniedError('only an admin may publish a public image');
    await this.modifiable(caller, imageId);
    return this.d.repo.mutate(imageId, (cur) => {
      const properties = { ...cur.properties, ...patch.setProperties };
      for (const k of patch.removeProperties) delete properties[k];
      return {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.visibility !== undefined ? { visibility: patch.visibility } : {}),
        ...(patch.protected !== undefined ? { protected: patch.protected } : {}),
        ...(patch.minRamMb !== undefined ? { minRamMb: patch.minRamMb } : {}),
        ...(patch.minDiskGb !== undefined ? { minDiskGb: patch.minDiskGb } : {}),
        properties,
        tags: nextTags(cur.tags, patch.addTags ?? [], patch.removeTags ?? []),
        updatedAtMs: this.d.nowMs(),
      };
    });
  }

  /**
   * Deletes an image (owner or admin): the record, its members, and its blob when no other image
   * uses the same content.
   * @throws NotFoundError; PermissionDeniedError; FailedPreconditionError (reason image_protected)
   */
  async delete(caller: Caller, imageId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const image = await this.modifiable(caller, imageId);
      if (image.protected) throw new FailedPreconditionError(`image ${imageId} is protected and cannot be deleted`, 'image_protected');
      const status = transition(image.status, 'delete');
      try {
        if (image.hasBlob) {
          await this.d.blobs.withLock(image.osHashValue, async () => {
            const { blobReleased } = await this.d.repo.delete(image);
            if (blobReleased) await this.d.blobs.remove(image.osHashValue);
          });
        } else {
          await this.d.repo.delete(image);
        }
      } catch (e) {
        if (attempt < 3 && (e as Error).name === 'ConflictError') continue;
        throw e;
      }
      await this.d.onStatusChanged({ ...image, status, updatedAtMs: this.d.nowMs() }, caller.requestId);
      return;
    }
  }

  /** active -> deactivated (admin; the policy enforces the role). @throws FailedPreconditionError from other statuses */
  async deactivate(caller: Caller, imageId: string): Promise<ImageRecord> {
    await this.visible(caller, imageId);
    return this.move(caller, imageId, 'deactivate');
  }

  /** deactivated -> active (admin). @throws FailedPreconditionError from other statuses */
  async reactivate(caller: Caller, imageId: string): Promise<ImageRecord> {
    await this.visible(caller, imageId);
    return this.move(caller, imageId, 'reactivate');
  }

  /**
   * Shares a `shared` image with another project (owner or admin); the member starts pending.
   * @throws InvalidArgumentError('member_project_id'); FailedPreconditionError (reason image_not_shared);
   *   AlreadyExistsError('image member', ...)
   */
  async addMember(caller: Caller, imageId: string, memberProjectId: string): Promise<ImageMemberView> {
    if (!memberProjectId) throw new InvalidArgumentError('member_project_id', 'is required');
    const image = await this.modifiable(caller, imageId);
    if (image.visibility !== 'shared') {
      throw new FailedPreconditionError(`image ${imageId} has visibility ${image.visibility}: only shared images have members`, 'image_not_shared');
    }
    if (memberProjectId === image.ownerProjectId) throw new InvalidArgumentError('member_project_id', 'is the owner of the image');
    if (!(await this.d.repo.addMember(imageId, memberProjectId))) throw new AlreadyExistsError('image member', `${imageId}/${memberProjectId}`);
    return { imageId, memberProjectId, status: 'pending' };
  }

  /**
   * The member project accepts, rejects or resets (pending) an image shared with it. Only the
   * member itself (or an admin) may; the owner may not accept on its behalf (Glance).
   * @throws InvalidArgumentError('status'); PermissionDeniedError; NotFoundError('image member', ...)
   */
  async updateMember(caller: Caller, imageId: string, memberProjectId: string, status: MemberStatus | undefined): Promise<ImageMemberView> {
    if (!status) throw new InvalidArgumentError('status', 'must be pending, accepted or rejected');
    await this.visible(caller, imageId);
    if (!caller.viewer.admin && caller.viewer.projectId !== memberProjectId) {
      throw new PermissionDeniedError('only the member project may change its membership status');
    }
    if (!(await this.d.repo.updateMember(imageId, memberProjectId, status))) {
      throw new NotFoundError('image member', `${imageId}/${memberProjectId}`);
    }
    return { imageId, memberProjectId, status };
  }

  /** Removes a member (owner or admin). @throws NotFoundError('image member', ...) */
  async removeMember(caller: Caller, imageId: string, memberProjectId: string): Promise<void> {
    await this.modifiable(caller, imageId);
    if (!(await this.d.repo.removeMember(imageId, memberProjectId))) {
      throw new NotFoundError('image member', `${imageId}/${memberProjectId}`);
    }
  }

  /** Members of an image: all of them for the owner/admin, only its own entry for a member. */
  async listMembers(caller: Caller, imageId: string): Promise<ImageMemberView[]> {
    const image = await this.visible(caller, imageId);
    const all = Object.entries(await this.d.repo.members(imageId)).map(([memberProjectId, status]) => ({ imageId, memberProjectId, status }));
    return canModifyImage(image, caller.viewer) ? all : all.filter((m) => m.memberProjectId === caller.viewer.projectId);
  }

  private async visible(caller: Caller, imageId: string): Promise<ImageRecord> {
    if (!imageId) throw new InvalidArgumentError('image_id', 'is required');
    const image = await this.d.repo.get(imageId);
    if (!image) throw new NotFoundError('image', imageId);
    const member = image.visibility === 'shared' ? await this.d.repo.memberStatus(imageId, caller.viewer.projectId) : undefined;
    if (!canSeeImage(image, caller.viewer, member)) throw new NotFoundError('image', imageId);
    return image;
  }

  private async modifiable(caller: Caller, imageId: string): Promise<ImageRecord> {
    const image = await this.visible(caller, imageId);
    if (!canModifyImage(image, caller.viewer)) throw new PermissionDeniedError(`image ${imageId} belongs to another project`);
    return image;
  }

  /** Applies a status event (compare-and-set through the status machine) and reports it. */
  private async move(caller: Caller, imageId: string, event: ImageEvent): Promise<ImageRecord> {
    const image = await this.d.repo.mutate(imageId, (cur) => ({ status: transition(cur.status, event), updatedAtMs: this.d.nowMs() }));
    await this.d.onStatusChanged(image, caller.requestId);
    return image;
  }
}

function byCreation(a: Pick<ImageRecord, 'createdAtMs' | 'id'>, b: Pick<ImageRecord, 'createdAtMs' | 'id'>): number {
  return a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function encodePageToken(img: ImageRecord): string {
  return Buffer.from(JSON.stringify([img.createdAtMs, img.id])).toString('base64url');
}

function decodePageToken(token: string): Pick<ImageRecord, 'createdAtMs' | 'id'> {
  try {
    const [createdAtMs, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof createdAtMs === 'number' && typeof id === 'string') return { createdAtMs, id };
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('page.page_token', 'is not a token returned by ListImages');
}

function cancelled(): FailedPreconditionError {
  return new FailedPreconditionError('the client cancelled the upload', 'upload_cancelled');
}

/** Next part of the stream, or a rejection as soon as the client cancels. */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal | undefined): Promise<IteratorResult<T>> {
  if (!signal) return it.next();
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
