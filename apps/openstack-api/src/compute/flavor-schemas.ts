/**
 * JSON schemas of Nova 2.1's flavor write bodies (nova/api/openstack/compute/schemas flavor_manage,
 * flavors_extraspecs and flavor_access, their 2.1 forms). Counts may come as integers or strings of
 * digits, as Nova's `flavor_param_*` types allow; the controller checks their ranges and names the field.
 */

/** Nova's `flavor_param_positive` / `_non_negative`: an integer or a string of digits (range checked by the controller). */
const count = (minimum: number) => ({ anyOf: [{ type: 'integer', minimum, maximum: 2147483647 }, { type: 'string', pattern: '^[0-9]+$', maxLength: 10 }] }) as const;

/** Nova's parameter_types.boolean: JSON booleans and the spellings oslo's bool_from_string takes. */
export const novaBoolean = {
  anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'] }],
} as const;

/**
 * POST /flavors (admin): name, ram, vcpus, disk required; id a string, a number (its decimal
 * spelling, checked against the id pattern by the controller) or null (null or absent: a generated uuid).
 */
export const createFlavorBody = {
  type: 'object',
  required: ['flavor'],
  properties: {
    flavor: {
      type: 'object',
      required: ['name', 'ram', 'vcpus', 'disk'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' },
        id: { anyOf: [{ type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' }, { type: 'number' }, { type: 'null' }] },
        ram: count(1),
        vcpus: count(1),
        disk: count(0),
        'OS-FLV-EXT-DATA:ephemeral': count(0),
        swap: count(0),
        rxtx_factor: { anyOf: [{ type: 'number', exclusiveMinimum: 0, maximum: 3.40282e38 }, { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 64 }] },
        'os-flavor-access:is_public': novaBoolean,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** Extra spec keys and values (Nova's flavors_extraspecs metadata: key chars, 255 each; numbers and booleans are kept as strings). */
const extraSpecs = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { anyOf: [{ type: 'string', maxLength: 255 }, { type: 'number' }, { type: 'boolean' }] } },
  additionalProperties: false,
} as const;

/** POST /flavors/{id}/os-extra_specs. */
export const createExtraSpecsBody = { type: 'object', required: ['extra_specs'], properties: { extra_specs: extraSpecs }, additionalProperties: false } as const;

/** PUT /flavors/{id}/os-extra_specs/{key}: exactly one key, the URL's. */
export const updateExtraSpecBody = { ...extraSpecs, minProperties: 1, maxProperties: 1 } as const;

const tenant = { type: 'object', required: ['tenant'], properties: { tenant: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false } as const;

/** POST /flavors/{id}/action: addTenantAccess or removeTenantAccess, `{"tenant": "<project id>"}`. */
export const flavorActionBody = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  properties: { addTenantAccess: tenant, removeTenantAccess: tenant },
  additionalProperties: false,
} as const;
