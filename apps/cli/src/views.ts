import { compute, image, volume } from '@minicloud/proto';
import { serverStatus } from './server-status';

/** A resource as the CLI shows it: snake_case keys as in the proto, enums as lower-case names. */
export type View = Record<string, unknown>;

/** Decodes an enum field: the generated `xxxToJSON` function of its enum. */
export type EnumDecoder = (value: number) => string;

/** Map-typed proto fields: their keys are user data and are never re-cased. */
const MAP_FIELDS = new Set(['metadata', 'extraSpecs', 'properties', 'limits', 'inUse', 'reserved']);

/** `ramMb` -> `ram_mb`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Short lower-case name of an enum value: VM_STATE_ACTIVE -> "active"; the UNSPECIFIED value (task
 * state "none", unset status) -> null. The prefix is taken from the enum's value 0.
 */
export function enumName(decode: EnumDecoder, value: number): string | null {
  if (value === 0) return null;
  const prefix = decode(0).replace(/UNSPECIFIED$/, '');
  const full = decode(value);
  return full.startsWith(prefix) ? full.slice(prefix.length).toLowerCase() : full.toLowerCase();
}

/**
 * Converts a decoded ts-proto message to a plain {@link View}: keys to snake_case (except inside map
 * fields), Dates to ISO-8601 strings, bytes to base64, fields named in `enums` (camelCase name, at any
 * depth) to {@link enumName}.
 */
export function toView(message: object, enums: Record<string, EnumDecoder> = {}): View {
  const out: View = {};
  for (const [key, value] of Object.entries(message)) {
    if (value === undefined) continue;
    const decode = enums[key];
    if (decode && typeof value === 'number') out[snakeCase(key)] = enumName(decode, value);
    else if (MAP_FIELDS.has(key) && value && typeof value === 'object') out[snakeCase(key)] = { ...(value as object) };
    else out[snakeCase(key)] = convert(value, enums);
  }
  return out;
}

function convert(value: unknown, enums: Record<string, EnumDecoder>): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => convert(v, enums));
  if (value && typeof value === 'object') return toView(value, enums);
  return value;
}

const SERVER_ENUMS = { vmState: compute.vmStateToJSON, taskState: compute.taskStateToJSON, powerState: compute.powerStateToJSON };

/** What `openstack server show` prints as the image of a server booted from volume. */
export const BOOTED_FROM_VOLUME = 'N/A (booted from volume)';

/** A server with its Nova-style `status` (see server-status.ts) placed after `name`; no image = booted from volume. */
export function serverView(s: compute.Server): View {
  const { id, name, status: _apiStatus, ...rest } = toView(s, SERVER_ENUMS);
  if (!s.imageId) rest.image_id = BOOTED_FROM_VOLUME;
  return { id, name, status: serverStatus(s), ...rest };
}

/** A hypervisor host; `state` as a lower-case name (up, failed, isolated, ...). */
export function hostView(h: compute.Host): View {
  return toView(h, { state: compute.hostStateToJSON });
}

/** An image; `status` (queued, saving, active, ...) and `visibility` as lower-case names. */
export function imageView(i: image.Image): View {
  return toView(i, { status: image.imageStatusToJSON, visibility: image.imageVisibilityToJSON });
}

/** A volume; `status` as Cinder spells it (available, in-use, error_deleting, ...). */
export function volumeView(v: volume.Volume): View {
  const view = toView(v, { status: volume.volumeStatusToJSON });
  if (view.status === 'in_use') view.status = 'in-use';
  return view;
}

/** Any message without enums (flavor, network, subnet, port, project, user, token info). */
export function plainView(message: object): View {
  return toView(message);
}
