import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { ServiceDefinition, ServiceHandlers } from './types';

/**
 * Size limits on request fields, the field's standard values: names and descriptions 255 characters
 * (Nova, Neutron, Cinder and Glance name columns), metadata/properties/extra specs at most 128 items
 * (Nova's quota `metadata_items` default) with keys and values of 255 characters (Nova's and Cinder's
 * metadata schema), user_data 65,535 bytes (Nova's API schema), a page at most 1,000 items (Nova's and
 * Neutron's `max_limit`), passwords 4,096 characters (passlib's and Keystone's bound: a hash of a
 * megabyte password would be a free denial of service), a guest's admin_pass 255 characters
 * (minicloud's bound: Nova's schema sets none, and a guest password is not a document), an SSH public key 16,384 characters (an
 * OpenSSH line of an RSA 16384-bit key is about 2,800).
 */
export const INPUT_LIMITS = {
  nameChars: 255,
  descriptionChars: 255,
  passwordChars: 4096,
  adminPassChars: 255,
  publicKeyChars: 16_384,
  mapItems: 128,
  mapKeyChars: 255,
  mapValueChars: 255,
  listItems: 128,
  userDataBytes: 65_535,
  pageSize: 1000,
} as const;

/** Map fields of string to string that carry caller-chosen metadata. */
const METADATA_MAPS = new Set(['metadata', 'properties', 'setProperties', 'setMetadata', 'extraSpecs']);
/** Lists of metadata keys to remove. */
const KEY_LISTS = new Set(['removeProperties', 'removeMetadata', 'unset', 'addTags', 'removeTags']);

/** Lists of resource names or ids (a server's security groups): listItems items of nameChars each. */
const NAME_LISTS = new Set(['securityGroups']);

/** Lists of ids filtering a list call (a page of servers' device ids): at most a page of them. */
const ID_LISTS = new Set(['deviceIds']);

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function tooLong(field: string, what: string, max: number, got: number): never {
  throw new InvalidArgumentError(field, `${what} is ${got} long, more than ${max}`);
}

/**
 * Checks a decoded request message against INPUT_LIMITS by field name, recursively (nested messages
 * and repeated messages too): `name` / `*Name` strings, `description`, `password`, `adminPass`, `publicKey`, `userData`,
 * metadata maps (`metadata`, `properties`, `setProperties`, `setMetadata`, `extraSpecs`), key lists
 * (`removeProperties`, `removeMetadata`, `unset`, tags), `routes` (a router's static routes, at most
 * `listItems`), name lists (`securityGroups`), id lists (`deviceIds`, at most a page) and `page.pageSize`. Byte fields (image
 * chunks, volume data) and every other field pass unchecked.
 * @throws InvalidArgumentError naming the field in snake_case (e.g. `metadata`, `password.user_name`,
 *   `page.page_size`).
 */
export function checkInputLimits(req: unknown, path = ''): void {
  if (req === null || typeof req !== 'object' || req instanceof Uint8Array) return;
  if (Array.isArray(req)) {
    req.forEach((v, i) => checkInputLimits(v, `${path}[${i}]`));
    return;
  }
  for (const [key, value] of Object.entries(req as Record<string, unknown>)) {
    const field = path ? `${path}.${snake(key)}` : snake(key);
    if (typeof value === 'string') {
      if ((key === 'name' || key.endsWith('Name')) && value.length > INPUT_LIMITS.nameChars) tooLong(field, 'the name', INPUT_LIMITS.nameChars, value.length);
      if (key === 'description' && value.length > INPUT_LIMITS.descriptionChars) tooLong(field, 'the description', INPUT_LIMITS.descriptionChars, value.length);
      if (key === 'password' && value.length > INPUT_LIMITS.passwordChars) tooLong(field, 'the password', INPUT_LIMITS.passwordChars, value.length);
      if (key === 'adminPass' && value.length > INPUT_LIMITS.adminPassChars) tooLong(field, 'admin_pass', INPUT_LIMITS.adminPassChars, value.length);
      if (key === 'publicKey' && value.length > INPUT_LIMITS.publicKeyChars) tooLong(field, 'the public key', INPUT_LIMITS.publicKeyChars, value.length);
      if (key === 'userData' && Buffer.byteLength(value) > INPUT_LIMITS.userDataBytes) tooLong(field, 'user_data (bytes)', INPUT_LIMITS.userDataBytes, Buffer.byteLength(value));
    } else if (value instanceof Uint8Array) {
      if (key === 'userData' && value.length > INPUT_LIMITS.userDataBytes) tooLong(field, 'user_data (bytes)', INPUT_LIMITS.userDataBytes, value.length);
    } else if (METADATA_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > INPUT_LIMITS.mapItems) throw new InvalidArgumentError(field, `has ${entries.length} items, more than ${INPUT_LIMITS.mapItems}`);
      for (const [k, v] of entries) {
        if (k.length > INPUT_LIMITS.mapKeyChars) tooLong(field, `key "${k.slice(0, 32)}..."`, INPUT_LIMITS.mapKeyChars, k.length);
        if (typeof v === 'string' && v.length > INPUT_LIMITS.mapValueChars) tooLong(`${field}.${k}`, 'the value', INPUT_LIMITS.mapValueChars, v.length);
      }
    } else if (KEY_LISTS.has(key) && Array.isArray(value)) {
      if (value.length > INPUT_LIMITS.listItems) throw new InvalidArgumentError(field, `has ${value.length} items, more than ${INPUT_LIMITS.listItems}`);
      for (const k of value) if (typeof k === 'string' && k.length > INPUT_LIMITS.mapKeyChars) tooLong(field, 'an item', INPUT_LIMITS.mapKeyChars, k.length);
    } else if (key === 'routes' && Array.isArray(value)) {
      if (value.length > INPUT_LIMITS.listItems) throw new InvalidArgumentError(field, `has ${value.length} items, more than ${INPUT_LIMITS.listItems}`);
      checkInputLimits(value, field);
    } else if (NAME_LISTS.has(key) && Array.isArray(value)) {
      if (value.length > INPUT_LIMITS.listItems) throw new InvalidArgumentError(field, `has ${value.length} items, more than ${INPUT_LIMITS.listItems}`);
      for (const k of value) if (typeof k === 'string' && k.length > INPUT_LIMITS.nameChars) tooLong(field, 'a name', INPUT_LIMITS.nameChars, k.length);
    } else if (ID_LISTS.has(key) && Array.isArray(value)) {
      if (value.length > INPUT_LIMITS.pageSize) throw new InvalidArgumentError(field, `has ${value.length} items, more than ${INPUT_LIMITS.pageSize}`);
      for (const k of value) if (typeof k === 'string' && k.length > INPUT_LIMITS.nameChars) tooLong(field, 'an id', INPUT_LIMITS.nameChars, k.length);
    } else if (key === 'page' && value && typeof value === 'object') {
      const size = (value as { pageSize?: unknown }).pageSize;
      if (typeof size === 'number' && size > INPUT_LIMITS.pageSize) throw new InvalidArgumentError(`${field}.page_size`, `${size} is more than ${INPUT_LIMITS.pageSize}`);
    } else {
      checkInputLimits(value, field);
    }
  }
}

/**
 * Wraps every handler of a service so its request passes checkInputLimits before the handler runs;
 * a refused request fails as the method's shape demands (a rejected promise, or a response stream
 * that fails at once). Client-streaming handlers, whose request is a stream, are left as they are:
 * their messages are bytes, bounded by the server's max message size.
 */
export function withInputLimits<D extends ServiceDefinition, H extends ServiceHandlers<D>>(definition: D, handlers: H): H {
  const out: Record<string, (req: unknown, ctx: unknown) => unknown> = {};
  for (const [name, handler] of Object.entries(handlers as Record<string, (req: unknown, ctx: unknown) => unknown>)) {
    const m = definition[name];
    out[name] = m?.requestStream
      ? handler
      : (req, ctx) => {
          try {
            checkInputLimits(req);
          } catch (e) {
            return m?.responseStream ? rejectStream(e) : Promise.reject(e);
          }
          return handler(req, ctx);
        };
  }
  return out as unknown as H;
}

async function* rejectStream(e: unknown): AsyncIterable<never> {
  throw e;
}
