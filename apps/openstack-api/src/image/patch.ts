import type { image } from '@minicloud/proto';
import { HttpError, invalidField } from '../http/errors';
import { visibilityFromName } from './views';

/** One operation of Glance's JSON patch (media type application/openstack-images-v2.1-json-patch). */
export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** Core image attributes a caller may change, and the ones Glance reports as read-only (403 on change). */
const WRITABLE = new Set(['name', 'visibility', 'protected', 'min_disk', 'min_ram']);
/** Attributes only the image service sets (Glance's read-only and reserved attributes). */
export const READ_ONLY = new Set([
  'id', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'owner', 'created_at', 'updated_at',
  'self', 'file', 'schema', 'locations', 'direct_url', 'os_hidden', 'disk_format', 'container_format', 'deleted', 'deleted_at',
]);

/** The one path segment of a Glance patch (`/name`, `/hw_disk_bus`; `~1` is `/`, `~0` is `~`). */
function attributeOf(path: string): string {
  const m = /^\/([^/]+)$/.exec(path);
  if (!m) throw new HttpError(400, `Invalid JSON pointer for this resource: '${path}'`);
  return m[1].replace(/~1/g, '/').replace(/~0/g, '~');
}

function nonNegativeInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw invalidField(field, `'${field}' must be a non-negative integer.`);
  return v;
}

/**
 * Glance's JSON patch on `current` as one UpdateImage request, with Glance's answers:
 * `add`/`replace` of name, visibility, protected, min_disk, min_ram or a custom property (string
 * value) set it (`replace` of an absent custom property is 409 "Property x does not exist.");
 * `remove` drops a custom property (409 when absent; a core attribute "may not be removed", 403);
 * a read-only attribute (status, checksum, size, owner, disk_format after creation...) is 403.
 * `/tags` and `/tags/<index>` change the tag list, sent as the tags added and removed.
 * @throws HttpError 400 (bad op, path or value, naming the field), 403, 409, 501
 */
export function patchToUpdate(current: image.Image, ops: readonly PatchOp[]): image.UpdateImageRequest {
  const req: image.UpdateImageRequest = { imageId: current.id, setProperties: {}, removeProperties: [], addTags: [], removeTags: [] };
  const props = new Set(Object.keys(current.properties));
  let tags = [...current.tags];
  for (const [i, o] of ops.entries()) {
    if (/^\/tags(\/|$)/.test(o.path)) {
      tags = patchTags(tags, o, i);
      continue;
    }
    const attr = attributeOf(o.path);
    if (READ_ONLY.has(attr)) throw new HttpError(403, `Attribute '${attr}' is read-only.`);
    if (o.op === 'remove') {
      if (WRITABLE.has(attr)) throw new HttpError(403, `Property ${attr} may not be removed.`);
      if (!props.has(attr)) throw new HttpError(409, `Property ${attr} does not exist.`);
      props.delete(attr);
      delete req.setProperties[attr];
      req.removeProperties.push(attr);
      continue;
    }
    if (!('value' in o)) throw invalidField(`[${i}].value`, `'value' is required for '${o.op}'.`);
    const v = o.value;
    if (attr === 'name') {
      if (v !== null && typeof v !== 'string') throw invalidField('name', "'name' must be a string or null.");
      req.name = v ?? '';
    } else if (attr === 'visibility') {
      const vis = typeof v === 'string' ? visibilityFromName(v) : undefined;
      if (vis === undefined) throw invalidField('visibility', `'${String(v)}' is not one of public, private, shared, community.`);
      req.visibility = vis;
    } else if (attr === 'protected') {
      if (typeof v !== 'boolean') throw invalidField('protected', "'protected' must be a boolean.");
      req.protected = v;
    } else if (attr === 'min_disk') {
      req.minDiskGb = nonNegativeInt('min_disk', v);
    } else if (attr === 'min_ram') {
      req.minRamMb = nonNegativeInt('min_ram', v);
    } else {
      if (o.op === 'replace' && !props.has(attr)) throw new HttpError(409, `Property ${attr} does not exist.`);
      if (typeof v !== 'string') throw invalidField(attr, `'${attr}' must be a string (custom properties are strings).`);
      props.add(attr);
      req.removeProperties = req.removeProperties.filter((k) => k !== attr);
      req.setProperties[attr] = v;
    }
  }
  req.removeTags = current.tags.filter((t) => !tags.includes(t));
  req.addTags = tags.filter((t) => !current.tags.includes(t));
  return req;
}

/**
 * One patch operation on `/tags` (the whole list: add or replace) or `/tags/<index>` (`-` appends;
 * add or remove one), as a client's list diff sends them; tags stay unique.
 * @throws HttpError 400 for a bad value or index, 403 for removing the whole list
 */
function patchTags(tags: string[], o: PatchOp, i: number): string[] {
  const str = (v: unknown) => {
    if (typeof v !== 'string' || !v || v.length > 255) throw invalidField(`[${i}].value`, 'a tag is a string of 1..255 characters.');
    return v;
  };
  if (o.path === '/tags') {
    if (o.op === 'remove') throw new HttpError(403, 'Property tags may not be removed.');
    if (!Array.isArray(o.value)) throw invalidField('tags', "'tags' must be a list of strings.");
    return [...new Set(o.value.map(str))];
  }
  const at = o.path.slice('/tags/'.length);
  const index = at === '-' ? tags.length : /^\d+$/.test(at) ? Number(at) : -1;
  if (index < 0 || index > tags.length || (o.op !== 'add' && index === tags.length)) throw new HttpError(400, `Invalid JSON pointer for this resource: '${o.path}'`);
  if (o.op === 'remove') return tags.filter((_, k) => k !== index);
  const v = str(o.value);
  const next = o.op === 'replace' ? tags.map((t, k) => (k === index ? v : t)) : [...tags.slice(0, index), v, ...tags.slice(index)];
  return [...new Set(next)];
}
