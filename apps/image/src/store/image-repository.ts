import { AlreadyExistsError, ConflictError, FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { IMAGE_STATUSES, type ImageStatus } from '@minicloud/domain-image';
import { defineLuaScripts, type Redis } from '@minicloud/platform-state';
import { fromHashFields, toHashFields, type ImageRecord, type MemberStatus } from '../image-record';
import { keys } from './keys';

// Compare-and-set on `rev`; keeps status counts and (on activation) the blob's reference count.
// KEYS: image, status_counts, blob hash, blob_store_bytes. ARGV: expected rev, ref blob (0|1), size, field/value...
const CAS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 'conflict' end
local old = redis.call('HGET', KEYS[1], 'status')
local new = old
for i = 4, #ARGV, 2 do if ARGV[i] == 'status' then new = ARGV[i + 1] end end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('HINCRBY', KEYS[1], 'rev', 1)
if new ~= old then
  redis.call('HINCRBY', KEYS[2], old, -1)
  redis.call('HINCRBY', KEYS[2], new, 1)
end
if ARGV[2] == '1' then
  local refs = redis.call('HINCRBY', KEYS[3], 'refs', 1)
  if refs == 1 then
    redis.call('HSET', KEYS[3], 'size_bytes', ARGV[3])
    redis.call('INCRBY', KEYS[4], ARGV[3])
  end
end
return 'ok'
`;

// Removes an image and its members; releases its blob reference.
// KEYS: image, status_counts, images set, members, blob hash, blob_store_bytes. ARGV: expected rev, image id.
// Returns 'missing' | 'conflict' | 'protected' | 'ok' | 'released' (the last reference to the blob went).
const DELETE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 'conflict' end
if redis.call('HGET', KEYS[1], 'protected') == '1' then return 'protected' end
local status = redis.call('HGET', KEYS[1], 'status')
local has_blob = redis.call('HGET', KEYS[1], 'has_blob')
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('HINCRBY', KEYS[2], status, -1)
if has_blob == '1' then
  local refs = redis.call('HINCRBY', KEYS[5], 'refs', -1)
  if refs <= 0 then
    local size = redis.call('HGET', KEYS[5], 'size_bytes') or '0'
    redis.call('DEL', KEYS[5])
    redis.call('DECRBY', KEYS[6], size)
    return 'released'
  end
end
return 'ok'
`;

// Sets a member's status only when the membership exists. KEYS: members. ARGV: project, status.
const UPDATE_MEMBER_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** Result of {@link ImageRepository.delete}: whether the deleted image held the last reference to its blob. */
export interface DeleteOutcome {
  blobReleased: boolean;
}

/**
 * Image records, members and blob reference counts in Redis (`mc:image:*`). Writes to an existing
 * image are compare-and-set on its `rev` (Lua), so two concurrent updates cannot lose each other:
 * {@link mutate} re-reads and retries on conflict.
 */
export class ImageRepository {
  private readonly scripts;

  constructor(private readonly redis: Redis) {
    this.scripts = defineLuaScripts(redis, { cas: CAS_LUA, delete: DELETE_LUA, updateMember: UPDATE_MEMBER_LUA });
  }

  /** Stores a new record (rev 1) and counts it in its status. */
  async create(record: Omit<ImageRecord, 'rev'>): Promise<ImageRecord> {
    if (await this.redis.exists(keys.image(record.id))) throw new AlreadyExistsError('image', record.id);
    await this.redis
      .multi()
      .hset(keys.image(record.id), { ...toHashFields(record), rev: '1' })
      .sadd(keys.images(), record.id)
      .hincrby(keys.statusCounts(), record.status, 1)
      .exec();
    return { ...record, rev: 1 };
  }

  /** The record, or undefined. */
  async get(id: string): Promise<ImageRecord | undefined> {
    return fromHashFields(await this.redis.hgetall(keys.image(id)));
  }

  /** Every image record (unordered). */
  async all(): Promise<ImageRecord[]> {
    const ids = await this.redis.smembers(keys.images());
    const hashes = await Promise.all(ids.map((id) => this.redis.hgetall(keys.image(id))));
    return hashes.map(fromHashFields).filter((r): r is ImageRecord => r !== undefined);
  }

  /**
   * Read-modify-write of one image: `change` gets the current record and returns the fields to set
   * (it may throw to refuse). Retried up to 5 times when another write won.
   * @param opts.refBlob count one more reference to the record's blob (activation)
   * @throws NotFoundError('image', id) when absent; ConflictError after 5 lost races
   */
  async mutate(
    id: string,
    change: (current: ImageRecord) => Partial<Omit<ImageRecord, 'rev' | 'id'>>,
    opts: { refBlob?: { sha256: string; sizeBytes: number } } = {},
  ): Promise<ImageRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(id);
      if (!current) throw new NotFoundError('image', id);
      const fields = change(current);
      const args = Object.entries(toHashFields(fields)).flat();
      const blobKey = opts.refBlob ? keys.blob(opts.refBlob.sha256) : keys.blob('none');
      const res = await this.scripts.cas(
        [keys.image(id), keys.statusCounts(), blobKey, keys.blobStoreBytes()],
        [String(current.rev), opts.refBlob ? '1' : '0', String(opts.refBlob?.sizeBytes ?? 0), ...args],
      );
      if (res === 'ok') return { ...current, ...fields, rev: current.rev + 1 };
      if (res === 'missing') throw new NotFoundError('image', id);
    }
    throw new ConflictError(`image ${id} changed concurrently; retry`);
  }

  /**
   * Deletes the record (as read at `rev`), its members, and its reference to its blob.
   * @throws NotFoundError; FailedPreconditionError (reason "image_protected"); ConflictError when it changed since read
   */
  async delete(record: ImageRecord): Promise<DeleteOutcome> {
    const res = await this.scripts.delete(
      [
        keys.image(record.id),
        keys.statusCounts(),
        keys.images(),
        keys.members(record.id),
        keys.blob(record.osHashValue || 'none'),
        keys.blobStoreBytes(),
      ],
      [String(record.rev), record.id],
    );
    if (res === 'missing') throw new NotFoundError('image', record.id);
    if (res === 'protected') throw new FailedPreconditionError(`image ${record.id} is protected and cannot be deleted`, 'image_protected');
    if (res === 'conflict') throw new ConflictError(`image ${record.id} changed concurrently; retry`);
    return { blobReleased: res === 'released' };
  }

  /** Number of images referencing the blob. */
  async blobRefs(sha256: string): Promise<number> {
    return Number((await this.redis.hget(keys.blob(sha256), 'refs')) ?? 0);
  }

  /** Bytes of all referenced blobs. */
  async blobStoreBytes(): Promise<number> {
    return Number((await this.redis.get(keys.blobStoreBytes())) ?? 0);
  }

  /** Images per status (every status present, 0 when none). */
  async statusCounts(): Promise<Record<ImageStatus, number>> {
    const h = await this.redis.hgetall(keys.statusCounts());
    return Object.fromEntries(IMAGE_STATUSES.map((s) => [s, Number(h[s] ?? 0)])) as Record<ImageStatus, number>;
  }

  /** A project's membership status of an image, or undefined. */
  async memberStatus(imageId: string, projectId: string): Promise<MemberStatus | undefined> {
    return ((await this.redis.hget(keys.members(imageId), projectId)) ?? undefined) as MemberStatus | undefined;
  }

  /** Membership status of many images for one project (undefined entries: not a member). */
  async memberStatuses(imageIds: string[], projectId: string): Promise<(MemberStatus | undefined)[]> {
    return Promise.all(imageIds.map((id) => this.memberStatus(id, projectId)));
  }

  /** Every member of an image: project id -> status. */
  async members(imageId: string): Promise<Record<string, MemberStatus>> {
    return (await this.redis.hgetall(keys.members(imageId))) as Record<string, MemberStatus>;
  }

  /** Adds a pending member; false when the project is a member already. */
  async addMember(imageId: string, projectId: string): Promise<boolean> {
    return (await this.redis.hsetnx(keys.members(imageId), projectId, 'pending')) === 1;
  }

  /** Sets a member's status; false when the project is not a member. */
  async updateMember(imageId: string, projectId: string, status: MemberStatus): Promise<boolean> {
    return (await this.scripts.updateMember([keys.members(imageId)], [projectId, status])) === 1;
  }

  /** Removes a member; false when it was not one. */
  async removeMember(imageId: string, projectId: string): Promise<boolean> {
    return (await this.redis.hdel(keys.members(imageId), projectId)) === 1;
  }
}
