/** JSON schemas of the Nova v2.1 request bodies served (nova/api/openstack/compute/schemas, 2.1). */

const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' } as const;
const count = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^[0-9]+$' }] } as const;
const metadata = {
  type: 'object',
  patternProperties: { '^.{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
} as const;

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
        accessIPv4: { type: 'string' },
        accessIPv6: { type: 'string' },
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
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
    security_groups?: { name: string }[];
  };
  'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown>;
  'os:scheduler_hints'?: Record<string, unknown>;
}
