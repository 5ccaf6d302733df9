import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { identity } from '@minicloud/proto';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { authTokensBody, type AuthTokensBody } from './auth-schema';
import { keystoneCatalog } from './catalog';
import { appCredentialRoutes } from './app-credentials';
import { catalogRoutes } from './catalog-routes';
import { directoryRoutes } from './directory';
import { roleRoutes } from './roles';
import { collectionLinks, domainView, projectView, tokenBody, type DomainNames } from './views';

/** Keystone's v3 version document (identity API 3.14, as Keystone of the Zed release reports). */
function v3Version(identityUrl: string): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${identityUrl}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/**
 * The AuthenticateRequest for a POST /v3/auth/tokens body (one method; scope by project id or name,
 * Keystone's `"system": {"all": true}`, or `"unscoped"`).
 */
export function authenticateRequest(body: AuthTokensBody): identity.AuthenticateRequest {
  const { identity: who, scope } = body.auth;
  const method = who.methods[0];
  if (who.methods.length > 1) throw new HttpError(400, 'Only one authentication method per request is supported.');
  if (scope && scope !== 'unscoped' && scope.domain) {
    throw new HttpError(400, 'Only project- and system-scoped tokens are issued here; domain scope is not supported.');
  }
  const system = scope && scope !== 'unscoped' ? scope.system : undefined;
  if (system && (system as { all?: unknown }).all !== true) throw new HttpError(400, 'Invalid input for field/attribute auth.scope.system. The only system scope is {"all": true}.');
  const project = scope && scope !== 'unscoped' ? scope.project : undefined;
  if (system && project) throw new HttpError(400, 'Specifying both a project and a system scope is not allowed.');
  const req: identity.AuthenticateRequest = {
    projectId: project?.id ?? '',
    projectName: project?.id ? '' : (project?.name ?? ''),
    projectDomainName: project?.domain?.name ?? '',
    projectDomainId: project?.domain?.id ?? '',
    unscoped: scope === 'unscoped',
    systemScope: system ? 'all' : '',
  };
  if (method === 'password') {
    const user = who.password?.user;
    if (!user) throw new HttpError(400, "Invalid input for field/attribute auth.identity.password. 'password' is a required property.");
    if (!user.id && !user.name) throw new HttpError(400, "Invalid input for field/attribute auth.identity.password.user. 'id' or 'name' is required.");
    req.password = { userName: user.name ?? '', userId: user.id ?? '', password: user.password, domainName: user.domain?.name ?? '', domainId: user.domain?.id ?? '' };
  } else if (method === 'token') {
    if (!who.token) throw new HttpError(400, "Invalid input for field/attribute auth.identity.token. 'token' is a required property.");
    req.token = { token: who.token.id };
  } else {
    const c = who.application_credential;
    if (!c?.id) throw new HttpError(400, "Invalid input for field/attribute auth.identity.application_credential.id. 'id' is a required property.");
    req.applicationCredential = { id: c.id, secret: c.secret };
  }
  return req;
}

/**
 * Keystone v3 under `/identity`: version discovery, tokens (issue with password, token or
 * application credential; validate, check, revoke), the caller's catalog and projects, and reads of
 * projects, users, roles and domains, each translated to IdentityService with the caller's token.
 */
export async function identityRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const id = deps.backends.identity;
  const identityUrl = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/identity`;

  app.get('/', async (req, reply) => reply.code(300).send({ versions: { values: [v3Version(identityUrl(req))] } }));
  app.get('/v3', async (req) => ({ version: v3Version(identityUrl(req)) }));

  /** Role ids by name and domain names by id, read with the token being described (reader suffices). */
  const names = async (ctx: CallContext): Promise<{ roleIds: Map<string, string>; domains: DomainNames }> => {
    const [roles, domains] = await Promise.all([id.listRoles({}, ctx).catch(() => ({ roles: [] })), id.listDomains({}, ctx).catch(() => ({ domains: [] }))]);
    return { roleIds: new Map(roles.roles.map((r) => [r.name, r.id])), domains: new Map(domains.domains.map((d) => [d.id, d.name])) };
  };
  const describe = async (req: FastifyRequest, info: identity.TokenInfo, token: string, methods: string[]) => {
    const { roleIds, domains } = await names({ token, requestId: String(req.id) });
    // an unscoped token has no catalog (Keystone's); a system-scoped one has it, without project ids
    const catalog =
      queryValue(req, 'nocatalog') === undefined && (info.projectId || info.system)
        ? keystoneCatalog(await id.listServiceCatalog({}, { token, requestId: String(req.id) }), baseUrl(req, deps.publicUrl), info.projectId || undefined)
        : undefined;
    return tokenBody(info, { methods, roleIds, domains, catalog });
  };
  const subjectToken = (req: FastifyRequest) => {
    const t = req.headers['x-subject-token'];
    const v = Array.isArray(t) ? t[0] : t;
    if (!v) throw new HttpError(400, 'X-Subject-Token header is required.');
    return v;
  };

  app.post('/v3/auth/tokens', { schema: { body: authTokensBody } }, async (req, reply) => {
    const body = req.body as AuthTokensBody;
    const res = await id.authenticate(authenticateRequest(body), { requestId: String(req.id) });
    const out = await describe(req, res.info!, res.token, body.auth.identity.methods);
    return reply.code(201).header('x-subject-token', res.token).send(out);
  });

  const validate = async (req: FastifyRequest) => {
    const subject = subjectToken(req);
    const info = (await id.validateToken({ token: subject }, callContext(req))).info!;
    return { subject, info };
  };
  // HEAD first: fastify then does not derive one from the GET
  app.head('/v3/auth/tokens', async (req, reply) => {
    const { subject } = await validate(req);
    return reply.code(200).header('x-subject-token', subject).send();
  });
  app.get('/v3/auth/tokens', async (req, reply) => {
    const { subject, info } = await validate(req);
    // identity's tokens do not record the method that obtained them; "password" is the usual one
    return reply.header('x-subject-token', subject).send(await describe(req, info, subject, ['password']));
  });
  app.delete('/v3/auth/tokens', async (req, reply) => {
    await id.revokeToken({ token: subjectToken(req) }, callContext(req));
    return reply.code(204).send();
  });

  app.get('/v3/auth/catalog', async (req) => {
    const { info } = await id.validateToken({}, callContext(req));
    const cat = await id.listServiceCatalog({}, callContext(req));
    return { catalog: keystoneCatalog(cat, baseUrl(req, deps.publicUrl), info?.projectId || undefined), links: collectionLinks(`${identityUrl(req)}/v3/auth/catalog`) };
  });

  app.get('/v3/auth/projects', async (req) => {
    const ctx = callContext(req);
    const me = (await id.validateToken({}, ctx)).info!;
    const { assignments } = await id.listRoleAssignments({ userId: me.userId, effective: true }, ctx);
    const ids = [...new Set(assignments.map((a) => a.projectId).filter(Boolean))];
    const projects = await Promise.all(ids.map((p) => id.getProject({ projectId: p }, ctx).then((r) => r.project!, () => undefined)));
    const base = identityUrl(req);
    return { projects: projects.filter((p): p is identity.Project => !!p).map((p) => projectView(p, base)), links: collectionLinks(`${base}/v3/auth/projects`) };
  });

  app.get('/v3/auth/domains', async (req) => {
    const ctx = callContext(req);
    const me = (await id.validateToken({}, ctx)).info!;
    const { assignments } = await id.listRoleAssignments({ userId: me.userId, effective: true }, ctx);
    const mine = new Set(assignments.map((a) => a.domainId).filter(Boolean));
    const { domains } = await id.listDomains({}, ctx);
    const base = identityUrl(req);
    return { domains: domains.filter((d) => mine.has(d.id) && d.enabled).map((d) => domainView(d, base)), links: collectionLinks(`${base}/v3/auth/domains`) };
  });

  await directoryRoutes(app, deps);
  await roleRoutes(app, deps);
  await appCredentialRoutes(app, deps);
  await catalogRoutes(app, deps);
}
