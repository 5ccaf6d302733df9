/**
 * JSON schemas of the Nova 2.1 request bodies beyond servers' create (nova/api/openstack/compute/
 * schemas, the 2.1 forms): server update, metadata, every served server action, volume attachments,
 * aggregates, server groups, quota sets and services.
 */

const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' } as const;
const boolish = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['True', 'False', 'true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] }] } as const;
const hostName = { type: 'string', minLength: 1, maxLength: 255 } as const;

/** Server metadata as the metadata API takes it (Nova's metadata schema: key chars, 255 each). */
export const metadataMap = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
} as const;

/**
 * The value of an action that takes no arguments. Nova 2.1 validates no body for these actions and
 * ignores the value; clients send either null (as the API reference shows) or {}:
 * both are accepted; anything else is a 400 naming the action.
 */
const noBody = { type: ['null', 'object'], maxProperties: 0 } as const;

/** accessIPv4/accessIPv6 (the controller checks the address). */
const accessIp = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** PUT /servers/{id} at 2.1: `name`, `accessIPv4`, `accessIPv6`; `OS-DCF:diskConfig` accepted (MANUAL is the only layout). */
export const updateServerBody = {
  type: 'object',
  required: ['server'],
  properties: {
    server: {
      type: 'object',
      properties: { name, accessIPv4: accessIp, accessIPv6: accessIp, 'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** PUT and POST /servers/{id}/metadata. */
export const metadataBody = { type: 'object', required: ['metadata'], properties: { metadata: metadataMap }, additionalProperties: false } as const;

/** PUT /servers/{id}/metadata/{key}: exactly one item. */
export const metadataItemBody = {
  type: 'object',
  required: ['meta'],
  properties: { meta: { ...metadataMap, minProperties: 1, maxProperties: 1 } },
  additionalProperties: false,
} as const;

/** Each served action's body schema, by action name (POST /servers/{id}/action). */
export const ACTION_SCHEMAS: Record<string, object> = {
  'os-start': noBody,
  'os-stop': noBody,
  reboot: {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } },
    additionalProperties: false,
  },
  pause: noBody,
  unpause: noBody,
  suspend: noBody,
  resume: noBody,
  lock: noBody,
  unlock: noBody,
  shelve: noBody,
  unshelve: noBody,
  unrescue: noBody,
  confirmResize: noBody,
  revertResize: noBody,
  migrate: noBody,
  rebuild: {
    type: 'object',
    required: ['imageRef'],
    properties: {
      imageRef: { type: 'string', minLength: 1, maxLength: 255 },
      name,
      metadata: metadataMap,
      preserve_ephemeral: { type: 'boolean' },
      adminPass: { type: 'string' },
      accessIPv4: accessIp,
      accessIPv6: accessIp,
      'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    },
    additionalProperties: false,
  },
  resize: {
    type: 'object',
    required: ['flavorRef'],
    properties: { flavorRef: { anyOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'integer', minimum: 0 }] }, 'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] } },
    additionalProperties: false,
  },
  createImage: {
    type: 'object',
    required: ['name'],
    properties: { name, metadata: { type: 'object', patternProperties: { '^.{1,255}$': { type: 'string', maxLength: 255 } }, additionalProperties: false } },
    additionalProperties: false,
  },
  'os-migrateLive': {
    type: 'object',
    required: ['block_migration', 'disk_over_commit', 'host'],
    properties: { block_migration: boolish, disk_over_commit: boolish, host: { anyOf: [hostName, { type: 'null' }] } },
    additionalProperties: false,
  },
  evacuate: {
    type: 'object',
    required: ['onSharedStorage'],
    properties: { host: hostName, onSharedStorage: boolish, adminPass: { type: 'string' } },
    additionalProperties: false,
  },
  // Nova's set_admin_password schema: adminPass a string (its length is the controller's input limit)
  changePassword: {
    type: 'object',
    required: ['adminPass'],
    properties: { adminPass: { type: 'string' } },
    additionalProperties: false,
  },
  // Nova's get_console_output schema: an integer of at least -1, a string of digits, or null; -1 and null mean all.
  'os-getConsoleOutput': {
    type: 'object',
    properties: { length: { anyOf: [{ type: 'integer', minimum: -1, maximum: 2147483647 }, { type: 'string', pattern: '^-?[0-9]{1,10}$' }, { type: 'null' }] } },
    additionalProperties: false,
  },
  rescue: {
    anyOf: [
      noBody,
      { type: 'object', properties: { adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false },
    ],
  },
  // Nova's security_groups add/remove schema: a group name (or id) of 1..255 characters.
  addSecurityGroup: securityGroupAction(),
  removeSecurityGroup: securityGroupAction(),
};

/** The body of addSecurityGroup / removeSecurityGroup: `{"name": "<group name or id>"}`. */
function securityGroupAction(): object {
  return { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false };
}

/** POST /servers/{id}/action: one action, its body checked against its own schema. */
export const serverActionBody = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  properties: ACTION_SCHEMAS,
} as const;

/** POST /servers/{id}/os-volume_attachments at 2.1. */
export const attachVolumeBody = {
  type: 'object',
  required: ['volumeAttachment'],
  properties: {
    volumeAttachment: {
      type: 'object',
      required: ['volumeId'],
      properties: {
        volumeId: { type: 'string', minLength: 1, maxLength: 255 },
        device: { anyOf: [{ type: 'string', pattern: '^(/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' }, { type: 'null' }] },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** POST /os-aggregates. */
export const createAggregateBody = {
  type: 'object',
  required: ['aggregate'],
  properties: {
    aggregate: {
      type: 'object',
      required: ['name'],
      properties: { name, availability_zone: { anyOf: [name, { type: 'null' }] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** PUT /os-aggregates/{id}: a new name and/or availability zone (null: none), at least one of them. */
export const updateAggregateBody = {
  type: 'object',
  required: ['aggregate'],
  properties: {
    aggregate: {
      type: 'object',
      minProperties: 1,
      properties: { name, availability_zone: { anyOf: [name, { type: 'null' }] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** POST /os-aggregates/{id}/action: add_host, remove_host or set_metadata (a null value unsets). */
export const aggregateActionBody = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  properties: {
    add_host: { type: 'object', required: ['host'], properties: { host: hostName }, additionalProperties: false },
    remove_host: { type: 'object', required: ['host'], properties: { host: hostName }, additionalProperties: false },
    set_metadata: {
      type: 'object',
      required: ['metadata'],
      properties: {
        metadata: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { anyOf: [{ type: 'string', maxLength: 255 }, { type: 'null' }] } }, additionalProperties: false },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** POST /os-server-groups at 2.1: one policy, affinity or anti-affinity (soft-* are 2.15's). */
export const createServerGroupBody = {
  type: 'object',
  required: ['server_group'],
  properties: {
    server_group: {
      type: 'object',
      required: ['name', 'policies'],
      properties: { name, policies: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'string', enum: ['affinity', 'anti-affinity'] } } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const quotaValue = { anyOf: [{ type: 'integer', minimum: -1 }, { type: 'string', pattern: '^-?[0-9]+$' }] } as const;

/** PUT /os-quota-sets/{project_id}: the quotas minicloud enforces (others are refused, naming the field). */
export const updateQuotaSetBody = {
  type: 'object',
  required: ['quota_set'],
  properties: {
    quota_set: {
      type: 'object',
      properties: { instances: quotaValue, cores: quotaValue, ram: quotaValue, floating_ips: quotaValue, force: boolish },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** PUT /os-services/enable, /disable, /disable-log-reason (2.1). */
export const serviceUpdateBody = {
  type: 'object',
  required: ['host', 'binary'],
  properties: { host: hostName, binary: { type: 'string', minLength: 1, maxLength: 255 }, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 } },
  additionalProperties: false,
} as const;

/** A network or port id as Nova's `parameter_types.network_id` / `network_port_id` (format uuid: hyphens optional, any case). */
const uuidLike = { type: 'string', pattern: '^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$' } as const;

/**
 * POST /servers/{id}/os-interface at 2.1 (nova/api/openstack/compute/schemas/attach_interfaces.py):
 * `interfaceAttachment` with `net_id` or `port_id` and at most one `fixed_ips` entry; the body and
 * the attachment may both be absent or empty (the project's one network).
 */
export const attachInterfaceBody = {
  type: 'object',
  properties: {
    interfaceAttachment: {
      type: 'object',
      properties: {
        net_id: uuidLike,
        port_id: uuidLike,
        fixed_ips: {
          type: 'array',
          minItems: 1,
          maxItems: 1,
          items: {
            type: 'object',
            required: ['ip_address'],
            properties: { ip_address: { type: 'string', minLength: 1, maxLength: 64 } },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;
