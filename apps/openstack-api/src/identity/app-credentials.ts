import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { appCredentialView, collectionLinks } from './views';

/** POST /v3/users/{id}/application_credentials (keystone/application_credential/schema.py). */
export const createAppCredentialBody = {
  type: 'object',
  required: ['application_credential'],
  properties: {
    application_credential: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: ['string', 'null'], maxLength: 255 },
        secret: { type: ['string', 'null'], minLength: 1, maxLength: 4096 },
        expires_at: { type: ['string', 'null'], maxLength: 64 },
        roles: {
          type: 'array',
          maxItems: 128,
          items: { type: 'object', properties: { id: { type: 'string', maxLength: 64 }, name: { type: 'string', maxLength: 255 } }, additionalProperties: false },
        },
        unrestricted: { type: ['boolean', 'null'] },
        access_rules: { type: 'array', maxItems: 128 },
      },
      additionalProperties: false,
    },
  },
} as const;

interface AppCredentialBody {
  name: string;
  secret?: string | null;
  expires_at?: string | null;
  roles?: { id?: string; name?: string }[];
  unrestricted?: boolean | null;
  access_rules?: unknown[];
}

/**
 * Keystone v3 application credentials under /v3/users/{user_id}: create (201, the secret shown
 * once), list (`name` filter), show, delete. IdentityService keeps them per calling user, so the
 * path's user must be the caller (Keystone's owner rule).
 */
export async function appCredentialRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const id = deps.backends.identity;
  const base = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/identity`;
  const path = '/v3/users/:user/application_credentials';
  type Params = { Params: { user: string; id?: string } };

  /** The caller, who must be the path's user; and role ids by name for the views. */
  const owner = async (req: FastifyRequest<Params>) => {
    const ctx = callContext(req);
    const [me, roles] = await Promise.all([id.validateToken({}, ctx), id.listRoles({}, ctx)]);
    if (me.info!.userId !== req.params.user) throw new HttpError(403, 'You are not authorized to perform the requested action: only the owner may manage application credentials.');
    return { ctx, roleIds: new Map(roles.roles.map((r) => [r.name, r.id])), roleNames: new Map(roles.roles.map((r) => [r.id, r.name])) };
  };

  app.post<Params>(path, { schema: { body: createAppCredentialBody } }, async (req, reply) => {
    const c = (req.body as { application_credential: AppCredentialBody }).application_credential;
    if (c.secret) throw new HttpError(501, 'Caller-chosen application credential secrets are not supported by this cloud; one is generated.');
    if (c.unrestricted) throw new HttpError(501, 'Unrestricted application credentials are not supported by this cloud.');
    if (c.access_rules?.length) throw new HttpError(501, 'Application credential access rules are not supported by this cloud.');
    let expiresAt: Date | undefined;
    if (c.expires_at) {
      expiresAt = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(c.expires_at) ? c.expires_at : `${c.expires_at}Z`);
      if (Number.isNaN(expiresAt.getTime())) throw invalidField('application_credential.expires_at', `'${c.expires_at}' is not an ISO 8601 time.`);
    }
    const { ctx, roleIds, roleNames } = await owner(req);
    const roles = (c.roles ?? []).map((r, i) => {
      const name = r.name ?? roleNames.get(r.id ?? '');
      if (!name) throw new HttpError(404, `Could not find role: ${r.id ?? `application_credential.roles[${i}]`}.`);
      return name;
    });
    const res = await id.createApplicationCredential({ name: c.name, roles, expiresAt }, ctx);
    return reply.code(201).send({ application_credential: appCredentialView(res.credential!, base(req), roleIds, res.secret) });
  });
  app.get<Params>(path, async (req) => {
    const { ctx, roleIds } = await owner(req);
    const name = queryValue(req, 'name');
    const { credentials } = await id.listApplicationCredentials({}, ctx);
    return {
      application_credentials: credentials.filter((c) => name === undefined || c.name === name).map((c) => appCredentialView(c, base(req), roleIds)),
      links: collectionLinks(`${base(req)}/v3/users/${req.params.user}/application_credentials`),
    };
  });
  app.get<Params>(`${path}/:id`, async (req) => {
    const { ctx, roleIds } = await owner(req);
    const c = (await id.listApplicationCredentials({}, ctx)).credentials.find((x) => x.id === req.params.id);
    if (!c) throw new HttpError(404, `Could not find application credential: ${req.params.id}.`);
    return { application_credential: appCredentialView(c, base(req), roleIds) };
  });
  app.delete<Params>(`${path}/:id`, async (req, reply) => {
    const { ctx } = await owner(req);
    await id.deleteApplicationCredential({ id: req.params.id ?? '' }, ctx);
    return reply.code(204).send();
  });
}
