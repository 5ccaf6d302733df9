import { image } from '@minicloud/proto';

/** Glance's timestamp form: ISO 8601 UTC to the second ("2026-12-07T01:02:03Z"). */
function glanceTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

function enumName(names: Record<number, string>, value: number, prefix: string): string {
  return (names[value] ?? '').replace(prefix, '').toLowerCase();
}

/** Glance's visibility name for an image (`public`, `private`, `shared`, `community`). */
export function visibilityName(v: image.ImageVisibility): string {
  return enumName(image.ImageVisibility, v, 'IMAGE_VISIBILITY_') || 'shared';
}

/** Glance's status name (`queued`, `saving`, `active`, `killed`, `deleted`, `deactivated`, `importing`). */
export function statusName(s: image.ImageStatus): string {
  return enumName(image.ImageStatus, s, 'IMAGE_STATUS_');
}

/**
 * An image as Glance v2 shows it: the core properties, then every additional property at the top
 * level (Glance's flat form); sizes null until data is uploaded.
 */
export function imageView(i: image.Image): Record<string, unknown> {
  const uploaded = i.sizeBytes > 0;
  return {
    ...i.properties,
    id: i.id,
    name: i.name || null,
    status: statusName(i.status),
    visibility: visibilityName(i.visibility),
    protected: i.protected,
    os_hidden: false,
    checksum: i.checksumMd5 || null,
    os_hash_algo: i.osHashValue ? i.osHashAlgo || 'sha256' : null,
    os_hash_value: i.osHashValue || null,
    owner: i.ownerProjectId || null,
    size: uploaded ? i.sizeBytes : null,
    virtual_size: i.virtualSizeBytes || null,
    min_ram: i.minRamMb,
    min_disk: i.minDiskGb,
    disk_format: i.diskFormat || null,
    container_format: i.containerFormat || null,
    created_at: glanceTime(i.createdAt),
    updated_at: glanceTime(i.updatedAt ?? i.createdAt),
    tags: i.tags,
    self: `/v2/images/${i.id}`,
    file: `/v2/images/${i.id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** The ImageVisibility of a Glance visibility name (public, private, shared, community), or undefined. */
export function visibilityFromName(name: string): image.ImageVisibility | undefined {
  return ['public', 'private', 'shared', 'community'].includes(name) ? image.ImageVisibility[`IMAGE_VISIBILITY_${name.toUpperCase()}` as keyof typeof image.ImageVisibility] : undefined;
}

/** Glance's member status name (`pending`, `accepted`, `rejected`). */
export function memberStatusName(s: image.ImageMemberStatus): string {
  return enumName(image.ImageMemberStatus, s, 'IMAGE_MEMBER_STATUS_');
}

/**
 * An image member as Glance v2 shows it (`GET /v2/images/{id}/members/{member}`); the service
 * keeps no membership timestamps, so both are the image's own update time.
 */
export function memberView(m: image.ImageMember, at: Date | undefined): Record<string, unknown> {
  return {
    image_id: m.imageId,
    member_id: m.memberProjectId,
    status: memberStatusName(m.status),
    created_at: glanceTime(at),
    updated_at: glanceTime(at),
    schema: '/v2/schemas/member',
  };
}
