import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { ImageStatus } from '@minicloud/domain-image';
import { image as pb } from '@minicloud/proto';
import type { ImageRecord, ImageVisibility, MemberStatus } from '../image-record';
import type { ImageMemberView } from '../image-service';

const STATUS_TO_PB: Record<ImageStatus, pb.ImageStatus> = {
  queued: pb.ImageStatus.IMAGE_STATUS_QUEUED,
  saving: pb.ImageStatus.IMAGE_STATUS_SAVING,
  importing: pb.ImageStatus.IMAGE_STATUS_IMPORTING,
  active: pb.ImageStatus.IMAGE_STATUS_ACTIVE,
  killed: pb.ImageStatus.IMAGE_STATUS_KILLED,
  deleted: pb.ImageStatus.IMAGE_STATUS_DELETED,
  deactivated: pb.ImageStatus.IMAGE_STATUS_DEACTIVATED,
};

const VISIBILITY_TO_PB: Record<ImageVisibility, pb.ImageVisibility> = {
  public: pb.ImageVisibility.IMAGE_VISIBILITY_PUBLIC,
  private: pb.ImageVisibility.IMAGE_VISIBILITY_PRIVATE,
  shared: pb.ImageVisibility.IMAGE_VISIBILITY_SHARED,
  community: pb.ImageVisibility.IMAGE_VISIBILITY_COMMUNITY,
};

const MEMBER_TO_PB: Record<MemberStatus, pb.ImageMemberStatus> = {
  pending: pb.ImageMemberStatus.IMAGE_MEMBER_STATUS_PENDING,
  accepted: pb.ImageMemberStatus.IMAGE_MEMBER_STATUS_ACCEPTED,
  rejected: pb.ImageMemberStatus.IMAGE_MEMBER_STATUS_REJECTED,
};

function invert<K extends string, V extends number>(m: Record<K, V>): Map<number, K> {
  return new Map(Object.entries(m).map(([k, v]) => [v as number, k as K]));
}
const STATUS_FROM_PB = invert(STATUS_TO_PB);
const VISIBILITY_FROM_PB = invert(VISIBILITY_TO_PB);
const MEMBER_FROM_PB = invert(MEMBER_TO_PB);

/** Proto visibility -> domain; UNSPECIFIED (or absent) -> undefined. @throws InvalidArgumentError(field) for unknown values */
export function visibilityFromPb(v: pb.ImageVisibility | undefined, field = 'visibility'): ImageVisibility | undefined {
  if (v === undefined || v === pb.ImageVisibility.IMAGE_VISIBILITY_UNSPECIFIED) return undefined;
  const out = VISIBILITY_FROM_PB.get(v);
  if (!out) throw new InvalidArgumentError(field, `unknown visibility ${v}`);
  return out;
}

/** Proto status filter -> domain; UNSPECIFIED -> undefined. @throws InvalidArgumentError('status') */
export function statusFromPb(v: pb.ImageStatus): ImageStatus | undefined {
  if (v === pb.ImageStatus.IMAGE_STATUS_UNSPECIFIED) return undefined;
  const out = STATUS_FROM_PB.get(v);
  if (!out) throw new InvalidArgumentError('status', `unknown image status ${v}`);
  return out;
}

/** Proto member status -> domain; UNSPECIFIED -> undefined. @throws InvalidArgumentError('status') for unknown values */
export function memberStatusFromPb(v: pb.ImageMemberStatus): MemberStatus | undefined {
  if (v === pb.ImageMemberStatus.IMAGE_MEMBER_STATUS_UNSPECIFIED) return undefined;
  const out = MEMBER_FROM_PB.get(v);
  if (!out) throw new InvalidArgumentError('status', `unknown member status ${v}`);
  return out;
}

/** Domain record -> proto Image. */
export function imageToPb(r: ImageRecord): pb.Image {
  return {
    id: r.id,
    name: r.name,
    status: STATUS_TO_PB[r.status],
    diskFormat: r.diskFormat,
    containerFormat: r.containerFormat,
    sizeBytes: r.sizeBytes,
    virtualSizeBytes: r.virtualSizeBytes,
    checksumMd5: r.checksumMd5,
    osHashAlgo: r.osHashAlgo,
    osHashValue: r.osHashValue,
    visibility: VISIBILITY_TO_PB[r.visibility],
    protected: r.protected,
    ownerProjectId: r.ownerProjectId,
    minRamMb: r.minRamMb,
    minDiskGb: r.minDiskGb,
    properties: r.properties,
    tags: r.tags,
    createdAt: new Date(r.createdAtMs),
    updatedAt: new Date(r.updatedAtMs),
    sourceInstanceId: r.sourceInstanceId,
  };
}

/** Domain member -> proto ImageMember. */
export function memberToPb(m: ImageMemberView): pb.ImageMember {
  return { imageId: m.imageId, memberProjectId: m.memberProjectId, status: MEMBER_TO_PB[m.status] };
}
