/** JSON schemas of the Nova v2.1 request bodies served (nova/api/openstack/compute/schemas, 2.1). */

const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' } as const;
const count = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^[0-9]+$' }] } as const;
const metadata = {
  type: 'object',
  patternProperties: { '^.{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
} as const;

/** Nova's boolean parameter type: JSON booleans and their usual spellings (parameter_types.boolean). */
const novaBoolean = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'] }] } as const;

/**
 * One entry of `block_device_mapping_v2` at 2.1 (nova/api/openstack/compute/schemas/block_device_mapping.py;
 * `tag` is 2.32's and `volume_type` 2.67's, so both are refused here).
 */
const blockDeviceMappingV2 = {
  type: 'object',
  properties: {
    source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] },
    destination_type: { type: 'string', enum: ['local', 'volume'] },
    uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' },
    volume_size: { anyOf: [{ type: 'integer', minimum: 1, maximum: 2147483647 }, { type: 'string', pattern: '^[0-9]+$' }] },
    boot_index: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }, { type: 'null' }] },
    delete_on_termination: novaBoolean,
    device_name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._/-]*$' },
    guest_format: { type: 'string', maxLength: 255 },
    disk_bus: { type: 'string', maxLength: 255 },
    device_type: { type: 'string', maxLength: 255 },
    no_device: {},
  },
  required: ['source_type'],
  additionalProperties: false,
} as const;

/** accessIPv4/accessIPv6: a string the controller checks as an address of its version (Nova's ipv4/ipv6 formats; "" is no address there either). */
export const accessIp = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** POST /servers (2.1: networks a list; "auto"/"none" are 2.37's and refused here). */
export const createServerBody = {
  type: 'object',
  required: ['server'],
  properties: {
    server: {
      type: 'object',
      required: ['name', 'flavorRef'],
      properties: {
        name,
        imageRef: { type: 'string', maxLength: 255 },
        flavorRef: { anyOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'integer', minimum: 0 }] },
        adminPass: { type: 'string' },
        metadata,
        networks: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              uuid: { type: 'string', minLength: 1, maxLength: 255 },
              port: { anyOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }] },
              fixed_ip: { type: 'string', maxLength: 64 },
            },
            additionalProperties: false,
          },
        },
        min_count: count,
        max_count: count,
        return_reservation_id: { type: 'boolean' },
        availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
        key_name: { type: 'string', minLength: 1, maxLength: 255 },
        user_data: { type: 'string', maxLength: 65535 },
        security_groups: {
          type: 'array',
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false },
        },
        config_drive: { type: ['boolean', 'string'] },
        accessIPv4: accessIp,
        accessIPv6: accessIp,
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        block_device_mapping_v2: { type: 'array', maxItems: 128, items: blockDeviceMappingV2 },
      },
      additionalProperties: false,
    },
    'OS-SCH-HNT:scheduler_hints': { type: 'object' },
    'os:scheduler_hints': { type: 'object' },
  },
  additionalProperties: false,
} as const;

/** The parsed body of POST /servers. */
export interface CreateServerBody {
  server: {
    name: string;
    imageRef?: string;
    flavorRef: string | number;
    metadata?: Record<string, string>;
    networks?: { uuid?: string; port?: string | null; fixed_ip?: string }[];
    min_count?: number | string;
    max_count?: number | string;
    return_reservation_id?: boolean;
    availability_zone?: string;
    key_name?: string;
    user_data?: string;
    /** The guest's root password; absent: generated. */
    adminPass?: string;
    accessIPv4?: string;
    accessIPv6?: string;
    security_groups?: { name: string }[];
    block_device_mapping_v2?: BlockDeviceMappingV2[];
  };
  'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown>;
  'os:scheduler_hints'?: Record<string, unknown>;
}

/** One parsed entry of `block_device_mapping_v2`. */
export interface BlockDeviceMappingV2 {
  source_type: 'volume' | 'image' | 'snapshot' | 'blank';
  destination_type?: 'local' | 'volume';
  uuid?: string;
  volume_size?: number | string;
  boot_index?: number | string | null;
  delete_on_termination?: boolean | string;
  device_name?: string;
  guest_format?: string;
  disk_bus?: string;
  device_type?: string;
  no_device?: unknown;
}
