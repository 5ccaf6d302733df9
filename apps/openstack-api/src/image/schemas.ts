/**
 * Glance's `/v2/schemas/image` and `/v2/schemas/images` documents (glance/api/v2/images.py
 * get_schema), the properties this front fills; clients read them to know which properties are
 * core and which are additional.
 */
const imageProperties = {
  id: { type: 'string', description: 'An identifier for the image', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$' },
  name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
  status: { type: 'string', readOnly: true, description: 'Status of the image', enum: ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'] },
  visibility: { type: 'string', description: 'Scope of image accessibility', enum: ['community', 'public', 'private', 'shared'] },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  checksum: { type: ['null', 'string'], readOnly: true, description: 'md5 hash of image contents.', maxLength: 32 },
  os_hash_algo: { type: ['null', 'string'], readOnly: true, description: 'Algorithm to calculate the os_hash_value', maxLength: 64 },
  os_hash_value: { type: ['null', 'string'], readOnly: true, description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', maxLength: 128 },
  owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
  size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
  virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
  container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] },
  disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] },
  created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
  updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
  tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  self: { type: 'string', readOnly: true, description: 'An image self url' },
  file: { type: 'string', readOnly: true, description: 'An image file url' },
  schema: { type: 'string', readOnly: true, description: 'An image schema url' },
};

export const imageSchema = {
  name: 'image',
  additionalProperties: { type: 'string' },
  properties: imageProperties,
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

export const imagesSchema = {
  name: 'images',
  properties: {
    images: { type: 'array', items: imageSchema },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [
    { rel: 'first', href: '{first}' },
    { rel: 'next', href: '{next}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

/** Body of `POST /v2/images`: Glance's core attributes typed, any other key a custom property (a string). */
export const createImageBody = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: ['null', 'string'], maxLength: 255 },
    disk_format: imageProperties.disk_format,
    container_format: imageProperties.container_format,
    visibility: imageProperties.visibility,
    protected: { type: 'boolean' },
    os_hidden: { type: 'boolean' },
    min_ram: { type: 'integer', minimum: 0, maximum: 2147483647 },
    min_disk: { type: 'integer', minimum: 0, maximum: 2147483647 },
    tags: { type: 'array', items: { type: 'string', maxLength: 255 }, maxItems: 128 },
  },
  additionalProperties: { type: 'string', maxLength: 65535 },
  maxProperties: 128,
};

/** Body of `PATCH /v2/images/{id}` (application/openstack-images-v2.1-json-patch): a list of add/replace/remove. */
export const patchImageBody = {
  type: 'array',
  maxItems: 128,
  items: {
    type: 'object',
    required: ['op', 'path'],
    properties: { op: { enum: ['add', 'replace', 'remove'] }, path: { type: 'string', maxLength: 255 }, value: {} },
    additionalProperties: false,
  },
};

/** Body of `POST /v2/images/{id}/members`. */
export const createMemberBody = {
  type: 'object',
  required: ['member'],
  properties: { member: { type: 'string', minLength: 1, maxLength: 255 } },
  additionalProperties: false,
};

/** Body of `PUT /v2/images/{id}/members/{member_id}`. */
export const updateMemberBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { enum: ['pending', 'accepted', 'rejected'] } },
  additionalProperties: false,
};

const memberProperties = {
  image_id: { type: 'string', description: 'An identifier for the image' },
  member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
  status: { type: 'string', description: 'The status of this image member', enum: ['pending', 'accepted', 'rejected'] },
  created_at: { type: 'string', description: 'Date and time of image member creation' },
  updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  schema: { type: 'string', readOnly: true },
};

/** Glance's `/v2/schemas/member` and `/v2/schemas/members` documents. */
export const memberSchema = { name: 'member', properties: memberProperties };
export const membersSchema = {
  name: 'members',
  properties: { members: { type: 'array', items: memberSchema }, schema: { type: 'string' } },
  links: [{ rel: 'describedby', href: '{schema}' }],
};
