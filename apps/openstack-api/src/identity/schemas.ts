/**
 * JSON schemas of Keystone v3 admin request bodies (keystone/resource/schema.py,
 * keystone/identity/schema.py, keystone/assignment/schema.py), reduced to the attributes minicloud
 * keeps. Keystone takes unknown user attributes as "extra" (additionalProperties true there); projects,
 * roles and domains refuse them.
 */

const name64 = { type: 'string', minLength: 1, maxLength: 64 } as const;
const name255 = { type: 'string', minLength: 1, maxLength: 255 } as const;
const idRef = { type: ['string', 'null'], maxLength: 64 } as const;
const description = { type: ['string', 'null'], maxLength: 255 } as const;
const tags = { type: 'array', maxItems: 80, items: { type: 'string', minLength: 1, maxLength: 255 } } as const;

const projectProps = {
  name: name64,
  description,
  domain_id: idRef,
  parent_id: idRef,
  enabled: { type: 'boolean' },
  is_domain: { type: 'boolean' },
  tags,
  options: { type: 'object' },
} as const;

/** POST /v3/projects. */
export const createProjectBody = {
  type: 'object',
  required: ['project'],
  properties: { project: { type: 'object', required: ['name'], properties: projectProps, additionalProperties: false } },
} as const;

/** PATCH /v3/projects/{id}: domain_id, parent_id and is_domain cannot change (Keystone's 400). */
export const updateProjectBody = {
  type: 'object',
  required: ['project'],
  properties: {
    project: {
      type: 'object',
      minProperties: 1,
      properties: { name: name64, description, enabled: { type: 'boolean' }, tags, options: { type: 'object' } },
      additionalProperties: false,
    },
  },
} as const;

/** The parsed `project` of a create or update body. */
export interface ProjectBody {
  name?: string;
  description?: string | null;
  domain_id?: string | null;
  parent_id?: string | null;
  enabled?: boolean;
  is_domain?: boolean;
  tags?: string[];
}

const userProps = {
  name: name255,
  password: { type: ['string', 'null'], maxLength: 4096 },
  domain_id: idRef,
  default_project_id: idRef,
  enabled: { type: 'boolean' },
  email: { type: ['string', 'null'], maxLength: 255 },
  description,
  options: { type: 'object' },
} as const;

/** POST /v3/users. */
export const createUserBody = {
  type: 'object',
  required: ['user'],
  properties: { user: { type: 'object', required: ['name'], properties: userProps, additionalProperties: true } },
} as const;

/** PATCH /v3/users/{id}. */
export const updateUserBody = {
  type: 'object',
  required: ['user'],
  properties: { user: { type: 'object', properties: userProps, additionalProperties: true } },
} as const;

/** The parsed `user` of a create or update body. */
export interface UserBody {
  name?: string;
  password?: string | null;
  domain_id?: string | null;
  default_project_id?: string | null;
  enabled?: boolean;
  email?: string | null;
  description?: string | null;
}

/** POST /v3/users/{id}/password (self-service change). */
export const changePasswordBody = {
  type: 'object',
  required: ['user'],
  properties: {
    user: {
      type: 'object',
      required: ['password', 'original_password'],
      properties: { password: { type: 'string', minLength: 1, maxLength: 4096 }, original_password: { type: 'string', maxLength: 4096 } },
      additionalProperties: false,
    },
  },
} as const;

/** POST /v3/roles (global roles only: a domain-specific role has no counterpart here). */
export const createRoleBody = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'object', required: ['name'], properties: { name: name255, description, domain_id: { type: 'null' }, options: { type: 'object' } }, additionalProperties: false },
  },
} as const;

/** PATCH /v3/roles/{id}. */
export const updateRoleBody = {
  type: 'object',
  required: ['role'],
  properties: { role: { type: 'object', minProperties: 1, properties: { name: name255, description, options: { type: 'object' } }, additionalProperties: false } },
} as const;

/** The parsed `role` of a create or update body. */
export interface RoleBody {
  name?: string;
  description?: string | null;
}

/** POST /v3/groups. */
export const createGroupBody = {
  type: 'object',
  required: ['group'],
  properties: { group: { type: 'object', required: ['name'], properties: { name: name64, description, domain_id: idRef }, additionalProperties: true } },
} as const;

/** PATCH /v3/groups/{id}. */
export const updateGroupBody = {
  type: 'object',
  required: ['group'],
  properties: { group: { type: 'object', minProperties: 1, properties: { name: name64, description }, additionalProperties: true } },
} as const;

/** The parsed `group` of a create or update body. */
export interface GroupBody {
  name?: string;
  description?: string | null;
  domain_id?: string | null;
}

/** POST /v3/domains. */
export const createDomainBody = {
  type: 'object',
  required: ['domain'],
  properties: { domain: { type: 'object', required: ['name'], properties: { name: name64, description, enabled: { type: 'boolean' }, tags, options: { type: 'object' } }, additionalProperties: false } },
} as const;

/** PATCH /v3/domains/{id}. */
export const updateDomainBody = {
  type: 'object',
  required: ['domain'],
  properties: { domain: { type: 'object', minProperties: 1, properties: { name: name64, description, enabled: { type: 'boolean' }, tags, options: { type: 'object' } }, additionalProperties: false } },
} as const;

/** The parsed `domain` of a create or update body. */
export interface DomainBody {
  name?: string;
  description?: string | null;
  enabled?: boolean;
}
