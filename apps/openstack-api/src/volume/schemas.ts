/** JSON schemas of Cinder v3.0 request bodies (cinder/api/schemas), as far as the service honours them. */

const name = { type: ['string', 'null'], maxLength: 255 };
const size = { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 };
const id = { type: ['string', 'null'], maxLength: 255 };
const metadata = { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 255 } };
/** Name under Cinder's two spellings; descriptions only empty (the service keeps none). */
const naming = {
  name,
  display_name: name,
  description: { type: ['string', 'null'], maxLength: 0 },
  display_description: { type: ['string', 'null'], maxLength: 0 },
};
/** `{ "<key>": {...} }`, the one wrapper object every Cinder body has. */
const wrapped = (key: string, properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'object', required, properties, additionalProperties: false } },
  additionalProperties: false,
});

/**
 * `POST /volumes`: cinderclient sends every key, unset ones as null. `description` is accepted only
 * empty (the service keeps none); consistency groups, backups as a source and scheduler hints are refused.
 */
export const createVolumeBody = {
  type: 'object',
  required: ['volume'],
  properties: {
    volume: {
      type: 'object',
      properties: {
        size,
        ...naming,
        volume_type: id,
        availability_zone: id,
        snapshot_id: id,
        source_volid: id,
        imageRef: id,
        image_id: id,
        metadata,
        multiattach: { type: 'boolean', enum: [false] },
        consistencygroup_id: { type: 'null' },
        backup_id: { type: 'null' },
        group_id: { type: 'null' },
      },
      additionalProperties: false,
    },
    'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'], maxProperties: 0 },
  },
  additionalProperties: false,
};

/** `POST /snapshots`. */
export const createSnapshotBody = {
  type: 'object',
  required: ['snapshot'],
  properties: {
    snapshot: {
      type: 'object',
      required: ['volume_id'],
      properties: {
        volume_id: { type: 'string', minLength: 1, maxLength: 255 },
        name,
        display_name: name,
        description: { type: ['string', 'null'], maxLength: 0 },
        force: { type: ['boolean', 'string'], enum: [true, false, 'true', 'false', 'True', 'False'] },
        metadata: { type: ['object', 'null'], maxProperties: 0 },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/** `POST /types` (admin). */
export const createTypeBody = {
  type: 'object',
  required: ['volume_type'],
  properties: {
    volume_type: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 0 },
        'os-volume-type-access:is_public': { type: 'boolean', enum: [true] },
        extra_specs: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 255 } },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/**
 * `POST /volumes/{id}/action`: exactly one action key. Each served action's argument is checked
 * here; actions the service cannot do are answered by the route.
 */
export const volumeActionBody = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  properties: {
    'os-extend': { type: 'object', required: ['new_size'], properties: { new_size: size }, additionalProperties: false },
    'os-retype': { type: 'object', required: ['new_type'], properties: { new_type: { type: 'string', minLength: 1, maxLength: 255 }, migration_policy: { enum: ['never', 'on-demand', null] } }, additionalProperties: false },
    'os-attach': {
      type: 'object',
      required: ['mountpoint'],
      properties: {
        instance_uuid: { type: 'string', minLength: 1, maxLength: 255 },
        host_name: { type: ['string', 'null'], maxLength: 255 },
        mountpoint: { type: 'string', minLength: 1, maxLength: 255 },
        mode: { enum: ['rw'] },
      },
      additionalProperties: false,
    },
    'os-detach': { type: ['object', 'null'], properties: { attachment_id: id }, additionalProperties: false },
  },
  additionalProperties: { type: ['object', 'null'] },
};

/** `PUT /volumes/{id}`: name (or display_name) and metadata (replaces all); descriptions only empty. */
export const updateVolumeBody = wrapped('volume', { ...naming, metadata });

/** `POST|PUT /volumes/{id}/metadata`. */
export const metadataBody = { type: 'object', required: ['metadata'], properties: { metadata }, additionalProperties: false };

/** `PUT /volumes/{id}/metadata/{key}`: exactly the one key of the URL. */
export const metaItemBody = {
  type: 'object',
  required: ['meta'],
  properties: { meta: { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: { type: 'string', maxLength: 255 } } },
  additionalProperties: false,
};
