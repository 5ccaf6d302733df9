import { image } from '@minicloud/proto';
import { invalidField } from '../http/errors';
import { statusName, visibilityName } from './views';

/** Glance's sort keys (glance/api/v2/images.py SUPPORTED_SORT_KEYS). */
const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
type SortKey = (typeof SORT_KEYS)[number];

/** Query parameters that are not property filters. */
const RESERVED = new Set(['limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'name', 'status', 'visibility', 'owner', 'member_status', 'tag', 'size_min', 'size_max', 'disk_format', 'container_format', 'protected', 'os_hidden', 'size', 'id', 'checksum', 'min_ram', 'min_disk']);

function keyValue(i: image.Image, k: SortKey): string | number {
  switch (k) {
    case 'name': return i.name;
    case 'status': return statusName(i.status);
    case 'container_format': return i.containerFormat;
    case 'disk_format': return i.diskFormat;
    case 'size': return i.sizeBytes;
    case 'id': return i.id;
    case 'created_at': return i.createdAt?.getTime() ?? 0;
    case 'updated_at': return (i.updatedAt ?? i.createdAt)?.getTime() ?? 0;
  }
}

/**
 * The sort order of a Glance list query: either `sort=key[:dir],...` or repeated `sort_key` with
 * matching `sort_dir` (one dir for all, or one per key); default created_at desc; id desc breaks ties.
 * @throws HttpError 400 for an unknown key or direction, or both forms at once
 */
export function sortOrder(q: { sort?: string; sort_key?: string[]; sort_dir?: string[] }): [SortKey, 'asc' | 'desc'][] {
  let order: [string, string][];
  if (q.sort !== undefined) {
    if (q.sort_key?.length || q.sort_dir?.length) throw invalidField('sort', 'the new sort syntax cannot be combined with sort_key/sort_dir.');
    order = q.sort.split(',').map((s) => s.trim().split(':') as [string, string]).map(([k, d]) => [k, d ?? 'desc']);
  } else {
    const keys = q.sort_key ?? [];
    const dirs = q.sort_dir ?? [];
    if (dirs.length > 1 && dirs.length !== keys.length) throw invalidField('sort_dir', 'give one sort_dir, or one per sort_key.');
    order = (keys.length ? keys : ['created_at']).map((k, i) => [k, dirs[dirs.length > 1 ? i : 0] ?? 'desc']);
  }
  for (const [k, d] of order) {
    if (!(SORT_KEYS as readonly string[]).includes(k)) throw invalidField('sort_key', `Invalid sort key: ${k}. It should be one of: ${SORT_KEYS.join(', ')}.`);
    if (d !== 'asc' && d !== 'desc') throw invalidField('sort_dir', `Invalid sort direction: ${d}.`);
  }
  return [...(order as [SortKey, 'asc' | 'desc'][]), ['id', 'desc']];
}

/** Sorts `images` in place by {@link sortOrder}. */
export function sortImages(images: image.Image[], order: [SortKey, 'asc' | 'desc'][]): image.Image[] {
  return images.sort((a, b) => {
    for (const [k, d] of order) {
      const x = keyValue(a, k);
      const y = keyValue(b, k);
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c !== 0) return d === 'asc' ? c : -c;
    }
    return 0;
  });
}

function intParam(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw invalidField(name, `'${v}' is not a non-negative integer.`);
  return Number(v);
}

/**
 * Glance's list filters over the images the caller can see: status, visibility (default: all but
 * community, as Glance lists), owner, disk_format, container_format, protected, size_min/size_max,
 * exact size, id, checksum, min_ram and min_disk,
 * `tag` (repeated: every one), and any other parameter as a custom-property filter
 * (`?os_distro=cirros`). Deleted images never show.
 * @throws HttpError 400 naming a bad visibility, protected or size bound
 */
export function imageFilter(q: Record<string, string | undefined>, tags: readonly string[] = []): (i: image.Image) => boolean {
  const visibility = q.visibility;
  if (visibility !== undefined && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) {
    throw invalidField('visibility', `'${visibility}' is not one of public, private, shared, community, all.`);
  }
  if (q.protected !== undefined && !['true', 'false'].includes(q.protected.toLowerCase())) throw invalidField('protected', `'${q.protected}' is not a boolean.`);
  const sizeMin = intParam('size_min', q.size_min);
  const sizeMax = intParam('size_max', q.size_max);
  const size = intParam('size', q.size);
  const minRam = intParam('min_ram', q.min_ram);
  const minDisk = intParam('min_disk', q.min_disk);
  const props = Object.entries(q).filter(([k, v]) => !RESERVED.has(k) && v !== undefined);
  return (i) =>
    i.status !== image.ImageStatus.IMAGE_STATUS_DELETED &&
    (q.status === undefined || statusName(i.status) === q.status) &&
    (visibility === undefined ? visibilityName(i.visibility) !== 'community' : visibility === 'all' || visibilityName(i.visibility) === visibility) &&
    (q.owner === undefined || i.ownerProjectId === q.owner) &&
    (q.disk_format === undefined || i.diskFormat === q.disk_format) &&
    (q.container_format === undefined || i.containerFormat === q.container_format) &&
    (q.protected === undefined || String(i.protected) === q.protected.toLowerCase()) &&
    (sizeMin === undefined || i.sizeBytes >= sizeMin) &&
    (sizeMax === undefined || i.sizeBytes <= sizeMax) &&
    (size === undefined || (i.sizeBytes > 0 && i.sizeBytes === size)) &&
    (q.id === undefined || i.id === q.id) &&
    (q.checksum === undefined || i.checksumMd5 === q.checksum) &&
    (minRam === undefined || i.minRamMb === minRam) &&
    (minDisk === undefined || i.minDiskGb === minDisk) &&
    props.every(([k, v]) => i.properties[k] === v) &&
    tags.every((t) => i.tags.includes(t));
}
