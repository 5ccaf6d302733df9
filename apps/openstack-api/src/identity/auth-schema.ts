/** JSON schemas of Keystone v3 request bodies (keystone/auth/schema.py, reduced to what is served). */

const domainRef = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 255 } },
  additionalProperties: true,
} as const;

const nameOrId = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 255 }, domain: domainRef },
  additionalProperties: true,
} as const;

/** POST /v3/auth/tokens. */
export const authTokensBody = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity'],
      properties: {
        identity: {
          type: 'object',
          required: ['methods'],
          properties: {
            methods: { type: 'array', minItems: 1, items: { type: 'string', enum: ['password', 'token', 'application_credential'] } },
            password: {
              type: 'object',
              required: ['user'],
              properties: {
                user: {
                  type: 'object',
                  required: ['password'],
                  properties: { ...nameOrId.properties, password: { type: 'string', maxLength: 4096 } },
                  additionalProperties: true,
                },
              },
            },
            token: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 8192 } } },
            application_credential: {
              type: 'object',
              required: ['secret'],
              properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string' }, secret: { type: 'string', minLength: 1, maxLength: 4096 } },
            },
          },
        },
        scope: {
          anyOf: [
            { type: 'string', enum: ['unscoped'] },
            {
              type: 'object',
              properties: { project: nameOrId, domain: domainRef, system: { type: 'object' } },
              additionalProperties: true,
            },
          ],
        },
      },
    },
  },
} as const;

/** The parsed body of POST /v3/auth/tokens. */
export interface AuthTokensBody {
  auth: {
    identity: {
      methods: string[];
      password?: { user: { id?: string; name?: string; password: string; domain?: { id?: string; name?: string } } };
      token?: { id: string };
      application_credential?: { id?: string; name?: string; secret: string };
    };
    scope?: 'unscoped' | { project?: { id?: string; name?: string; domain?: { id?: string; name?: string } }; domain?: { id?: string; name?: string }; system?: object };
  };
}
