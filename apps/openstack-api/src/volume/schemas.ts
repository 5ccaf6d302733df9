/** JSON schemas of Cinder v3.0 request bodies (cinder/api/schemas), as far as the service honours them. */

const name = { type: ['string', 'null'], maxLength: 255 };
const size = { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 };
const id = { type: ['string', 'null'], maxLength: 255 };
/** A boolean as Cinder's parameter_types.boolean takes it (true/false, or their usual string forms). */
const boolish = { type: ['boolean', 'string'], enum: [true, false, 'true', 'false', 'True', 'False', 'TRUE', 'FALSE', '1', '0', 'yes', 'no', 'on', 'off', 'y', 'n', 't', 'f'] };
const metadata = { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 255 } };
/** Name and description under Cinder's two spellings each. */
const naming = {
  name,
  display_name: name,
  description: name,
  display_description: name,
};
/** `{ "<key>": {...} }`, the one wrapper object every Cinder body has. */
const wrapped = (key: string, properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'object', required, properties, additionalProperties: false } },
  additionalProperties: false,
});

/**
 * `POST /volumes`: cinderclient sends every key, unset ones as null. Consistency groups, backups as a
 * source and scheduler hints are refused.
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
        // null passes here: Cinder looks the volume up and answers 404, as for an unknown id
        volume_id: id,
        ...naming,
        force: { type: ['boolean', 'string'], enum: [true, false, 'true', 'false', 'True', 'False'] },
        metadata: { ...metadata, type: ['object', 'null'] },
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
        description: { type: ['string', 'null'], maxLength: 255 },
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
    'os-volume_upload_image': {
      type: 'object',
      required: ['image_name'],
      properties: {
        image_name: { type: 'string', minLength: 1, maxLength: 255 },
        // Cinder's enable_force_upload defaults to off: an in-use volume is not uploaded
        force: { ...boolish, enum: [false, 'false', 'False', 'FALSE', '0', 'no', 'off', 'n', 'f'] },
        disk_format: { enum: ['raw'] },
        container_format: { enum: ['bare'] },
        visibility: { enum: ['private'] },
        protected: { enum: [false] },
      },
      additionalProperties: false,
    },
    // the service keeps no attach or migration status of its own to reset (attachments are records)
    'os-reset_status': {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', minLength: 1, maxLength: 255 }, attach_status: { type: 'null' }, migration_status: { type: 'null' } },
      additionalProperties: false,
    },
    'os-set_bootable': { type: 'object', required: ['bootable'], properties: { bootable: boolish }, additionalProperties: false },
    'os-update_readonly_flag': { type: 'object', required: ['readonly'], properties: { readonly: boolish }, additionalProperties: false },
  },
  additionalProperties: { type: ['object', 'null'] },
};

/** `PUT /volumes/{id}`: name and description (either spelling) and metadata (replaces all). */
export const updateVolumeBody = wrapped('volume', { ...naming, metadata });

/** `PUT /snapshots/{id}`: name and description (either spelling). */
export const updateSnapshotBody = wrapped('snapshot', naming);

/** `POST|PUT /volumes/{id}/metadata`. */
export const metadataBody = { type: 'object', required: ['metadata'], properties: { metadata }, additionalProperties: false };

/** `PUT /volumes/{id}/metadata/{key}`: exactly the one key of the URL. */
export const metaItemBody = {
  type: 'object',
  required: ['meta'],
  properties: { meta: { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: { type: 'string', maxLength: 255 } } },
  additionalProperties: false,
};

/**
 * `POST /backups`: a backup of a volume, full or incremental. The service keeps no description and
 * picks its own container (an image), backs up in-use volumes crash-consistently (force is accepted)
 * and has no backups of snapshots.
 */
export const createBackupBody = {
  type: 'object',
  required: ['backup'],
  properties: {
    backup: {
      type: 'object',
      required: ['volume_id'],
      properties: {
        volume_id: { type: 'string', minLength: 1, maxLength: 255 },
        name,
        description: { type: ['string', 'null'], maxLength: 0 },
        container: { type: 'null' },
        incremental: { type: 'boolean' },
        force: { type: 'boolean' },
        snapshot_id: { type: 'null' },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/** `POST /backups/{id}/restore`: into a new volume (volume_id absent or null), optionally named. */
export const restoreBackupBody = {
  type: 'object',
  required: ['restore'],
  properties: { restore: { type: ['object', 'null'], properties: { volume_id: id, name }, additionalProperties: false } },
  additionalProperties: false,
};

/** A QoS spec value (Cinder's validate_dictionary_string_length: strings up to 255). */
const qosValue = { type: 'string', maxLength: 255 };

/** `POST /qos-specs` (admin): a name, an optional consumer, and any other key as a spec (Cinder's qos_specs.create). */
export const createQosSpecsBody = {
  type: 'object',
  required: ['qos_specs'],
  properties: {
    qos_specs: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' }, consumer: { type: 'string', enum: ['front-end', 'back-end', 'both'] } },
      maxProperties: 66,
      propertyNames: { minLength: 1, maxLength: 255 },
      additionalProperties: qosValue,
    },
  },
  additionalProperties: false,
};

/** `PUT /qos-specs/{id}` (admin): keys to set; `consumer` among them changes the consumer (Cinder's qos_specs.set). */
export const setQosSpecsBody = {
  type: 'object',
  required: ['qos_specs'],
  properties: {
    qos_specs: {
      type: 'object',
      minProperties: 1,
      maxProperties: 64,
      propertyNames: { pattern: '^[a-zA-Z0-9-_:. ]{1,255}$' },
      properties: { consumer: { type: 'string', enum: ['front-end', 'back-end', 'both'] } },
      additionalProperties: qosValue,
    },
  },
  additionalProperties: false,
};

/** `PUT /qos-specs/{id}/delete_keys` (admin): the keys to remove (Cinder's qos_specs.unset). */
export const unsetQosSpecsBody = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', maxItems: 64, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 255 } } },
  additionalProperties: false,
};

/** `PUT /types/{id}` (admin): at least one of name, description, is_public (private types are not served). */
export const updateTypeBody = {
  type: 'object',
  required: ['volume_type'],
  properties: {
    volume_type: {
      type: 'object',
      minProperties: 1,
      properties: { name: { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' }, description: { type: ['string', 'null'], maxLength: 255 }, is_public: { type: ['boolean', 'string'], enum: [true, 'true', 'True'] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

/** Extra spec keys and values as Cinder's parameter_types.extra_specs takes them. */
const specKey = { pattern: '^[a-zA-Z0-9-_:. /]{1,255}$' };
const specValue = { type: 'string', maxLength: 255 };

/** `POST /types/{id}/extra_specs` (admin). */
export const extraSpecsBody = {
  type: 'object',
  required: ['extra_specs'],
  properties: { extra_specs: { type: 'object', minProperties: 1, maxProperties: 64, propertyNames: specKey, additionalProperties: specValue } },
  additionalProperties: false,
};

/** `PUT /types/{id}/extra_specs/{key}` (admin): exactly one key, the URL's. */
export const oneExtraSpecBody = { type: 'object', minProperties: 1, maxProperties: 1, propertyNames: specKey, additionalProperties: specValue };
