import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MinicloudError } from '@minicloud/domain-errors';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import {
  changePasswordBody,
  createDomainBody,
  createGroupBody,
  createProjectBody,
  createUserBody,
  updateDomainBody,
  updateGroupBody,
  updateProjectBody,
  updateUserBody,
  type DomainBody,
  type GroupBody,
  type ProjectBody,
  type UserBody,
} from './schemas';
import { collectionLinks, domainView, groupView, projectView, userView } from './views';

/**
 * Keystone's reading of a boolean query filter (keystone/common/utils.py `attr_as_boolean`): these
 * spellings are false, any other value true; absent is no filter.
 */
export function queryFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return !['0', 'false', 'no', 'off', 'n', 'f'].includes(value.toLowerCase());
}

/** The user attributes Keystone has columns for; any other is an "extra" attribute, kept as given. */
const USER_ATTRIBUTES = new Set(['id', 'name', 'password', 'domain_id', 'default_project_id', 'enabled', 'email', 'description', 'options', 'links', 'password_expires_at']);

/** A user body's extra attributes as a JSON object text ('' when none). */
export function userExtra(u: UserBody): string {
  const extra = Object.fromEntries(Object.entries(u).filter(([k]) => !USER_ATTRIBUTES.has(k)));
  return Object.keys(extra).length ? JSON.stringify(extra) : '';
}

/** Keeps what an optional filter admits (`want` undefined: everything). */
const matches = <T>(want: T | undefined, got: T) => want === undefined || want === got;

/** Domain tags have nothing behind them in identity: refused rather than dropped. */
function refuseTags(tags: string[] | undefined): void {
  if (tags?.length) throw new HttpError(501, 'Domain tags are not supported by this cloud.');
}

/**
 * Keystone's project tag filters: `tags` (all of), `tags-any` (any of), `not-tags` (not all of),
 * `not-tags-any` (none of), each a comma-separated list.
 */
export function tagFilter(q: (name: string) => string | undefined): (tags: string[]) => boolean {
  const list = (name: string) => q(name)?.split(',').filter(Boolean);
  const [all, any, notAll, notAny] = [list('tags'), list('tags-any'), list('not-tags'), list('not-tags-any')];
  return (tags) =>
    (!all || all.every((t) => tags.includes(t))) &&
    (!any || any.some((t) => tags.includes(t))) &&
    (!notAll || !notAll.every((t) => tags.includes(t))) &&
    (!notAny || !notAny.some((t) => tags.includes(t)));
}

/**
 * Keystone v3 projects, users, groups and domains: create (201), show, list with Keystone's filters,
 * update (PATCH), delete (204); group membership; a user's groups and projects; the self-service
 * password change. Every call is IdentityService's with the caller's token: the policy table
 * decides who may.
 */
export async function directoryRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const id = deps.backends.identity;
  const base = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/identity`;
  const noContent = (reply: FastifyReply) => reply.code(204).send();

  // ---- projects

  app.post('/v3/projects', { schema: { body: createProjectBody } }, async (req, reply) => {
    const p = (req.body as { project: ProjectBody }).project;
    if (p.is_domain) throw new HttpError(501, 'Projects acting as domains (is_domain) are not supported by this cloud.');
    const res = await id.createProject(
      { name: p.name ?? '', domainId: p.domain_id ?? '', parentId: p.parent_id ?? '', description: p.description ?? '', enabled: p.enabled, tags: p.tags ?? [] },
      callContext(req),
    );
    return reply.code(201).send({ project: projectView(res.project!, base(req)) });
  });
  app.get('/v3/projects', async (req) => {
    const res = await id.listProjects({ domainId: queryValue(req, 'domain_id') ?? '', page: { pageSize: 1000 } }, callContext(req));
    const name = queryValue(req, 'name');
    const enabled = queryFlag(queryValue(req, 'enabled'));
    const parentId = queryValue(req, 'parent_id');
    // no project here acts as a domain
    const isDomain = queryFlag(queryValue(req, 'is_domain'));
    const tagged = tagFilter((n) => queryValue(req, n));
    const projects = res.projects.filter((p) => matches(name, p.name) && matches(enabled, p.enabled) && matches(parentId, p.parentId || p.domainId) && isDomain !== true && tagged(p.tags));
    return { projects: projects.map((p) => projectView(p, base(req))), links: collectionLinks(`${base(req)}/v3/projects`) };
  });
  app.get<{ Params: { id: string } }>('/v3/projects/:id', async (req) => ({ project: projectView((await id.getProject({ projectId: req.params.id }, callContext(req))).project!, base(req)) }));
  app.patch<{ Params: { id: string } }>('/v3/projects/:id', { schema: { body: updateProjectBody } }, async (req) => {
    const p = (req.body as { project: ProjectBody }).project;
    const res = await id.updateProject(
      { projectId: req.params.id, name: p.name, description: p.description ?? undefined, enabled: p.enabled, updateTags: p.tags !== undefined, tags: p.tags ?? [] },
      callContext(req),
    );
    return { project: projectView(res.project!, base(req)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/projects/:id', async (req, reply) => {
    await id.deleteProject({ projectId: req.params.id }, callContext(req));
    return noContent(reply);
  });

  // project tags (PUT of the list replaces it; one tag: PUT adds, DELETE removes)
  type Tagged = { Params: { id: string; tag?: string } };
  const tagsOf = async (req: FastifyRequest<Tagged>) => (await id.getProject({ projectId: req.params.id }, callContext(req))).project!.tags;
  const setTags = (req: FastifyRequest<Tagged>, tags: string[]) => id.updateProject({ projectId: req.params.id, updateTags: true, tags }, callContext(req));
  app.get<Tagged>('/v3/projects/:id/tags', async (req) => ({ tags: await tagsOf(req) }));
  app.put<Tagged>('/v3/projects/:id/tags', { schema: { body: { type: 'object', required: ['tags'], properties: { tags: { type: 'array', maxItems: 80, items: { type: 'string' } } } } } }, async (req) => {
    const res = await setTags(req, (req.body as { tags: string[] }).tags);
    return { tags: res.project!.tags };
  });
  app.delete<Tagged>('/v3/projects/:id/tags', async (req, reply) => {
    await setTags(req, []);
    return noContent(reply);
  });
  const hasTag = async (req: FastifyRequest<Tagged>, reply: FastifyReply) => {
    if (!(await tagsOf(req)).includes(req.params.tag!)) throw new HttpError(404, `Could not find project tag: ${req.params.tag}.`);
    return noContent(reply);
  };
  // HEAD first: fastify then does not derive one from the GET
  app.head<Tagged>('/v3/projects/:id/tags/:tag', hasTag);
  app.get<Tagged>('/v3/projects/:id/tags/:tag', hasTag);
  app.put<Tagged>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const tags = await tagsOf(req);
    if (!tags.includes(req.params.tag!)) await setTags(req, [...tags, req.params.tag!]);
    return reply.code(201).header('location', `${base(req)}/v3/projects/${req.params.id}/tags/${encodeURIComponent(req.params.tag!)}`).send();
  });
  app.delete<Tagged>('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const tags = await tagsOf(req);
    if (!tags.includes(req.params.tag!)) throw new HttpError(404, `Could not find project tag: ${req.params.tag}.`);
    await setTags(req, tags.filter((t) => t !== req.params.tag));
    return noContent(reply);
  });

  // ---- users

  app.post('/v3/users', { schema: { body: createUserBody } }, async (req, reply) => {
    const u = (req.body as { user: UserBody }).user;
    const res = await id.createUser(
      { name: u.name ?? '', password: u.password ?? '', domainId: u.domain_id ?? '', defaultProjectId: u.default_project_id ?? '', email: u.email ?? '', enabled: u.enabled, description: u.description ?? '', extraJson: userExtra(u) },
      callContext(req),
    );
    return reply.code(201).send({ user: userView(res.user!, base(req)) });
  });
  app.get('/v3/users', async (req) => {
    const res = await id.listUsers({ domainId: queryValue(req, 'domain_id') ?? '', page: { pageSize: 1000 } }, callContext(req));
    const name = queryValue(req, 'name');
    const enabled = queryFlag(queryValue(req, 'enabled'));
    const users = res.users.filter((u) => matches(name, u.name) && matches(enabled, u.enabled));
    return { users: users.map((u) => userView(u, base(req))), links: collectionLinks(`${base(req)}/v3/users`) };
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id', async (req) => ({ user: userView((await id.getUser({ userId: req.params.id }, callContext(req))).user!, base(req)) }));
  app.patch<{ Params: { id: string } }>('/v3/users/:id', { schema: { body: updateUserBody } }, async (req) => {
    const u = (req.body as { user: UserBody }).user;
    if (u.domain_id !== undefined) {
      const current = (await id.getUser({ userId: req.params.id }, callContext(req))).user!;
      if (u.domain_id !== current.domainId) throw invalidField('user.domain_id', 'A user cannot move to another domain.');
    }
    if (u.password === null) throw invalidField('user.password', 'A password cannot be removed.');
    const res = await id.updateUser(
      {
        userId: req.params.id,
        name: u.name,
        password: u.password,
        enabled: u.enabled,
        email: u.email === null ? '' : u.email,
        defaultProjectId: u.default_project_id === null ? '' : u.default_project_id,
        description: u.description === null ? '' : u.description,
        extraJson: userExtra(u) || undefined,
      },
      callContext(req),
    );
    return { user: userView(res.user!, base(req)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/users/:id', async (req, reply) => {
    await id.deleteUser({ userId: req.params.id }, callContext(req));
    return noContent(reply);
  });
  app.post<{ Params: { id: string } }>('/v3/users/:id/password', { schema: { body: changePasswordBody } }, async (req, reply) => {
    const u = (req.body as { user: { password: string; original_password: string } }).user;
    await id.changePassword({ userId: req.params.id, originalPassword: u.original_password, password: u.password }, callContext(req));
    return noContent(reply);
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id/groups', async (req) => {
    const res = await id.listGroups({ userId: req.params.id }, callContext(req));
    return { groups: res.groups.map((g) => groupView(g, base(req))), links: collectionLinks(`${base(req)}/v3/users/${req.params.id}/groups`) };
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id/projects', async (req) => {
    const ctx = callContext(req);
    const { assignments } = await id.listRoleAssignments({ userId: req.params.id, effective: true }, ctx);
    const ids = [...new Set(assignments.map((a) => a.projectId).filter(Boolean))];
    const projects = await Promise.all(ids.map((p) => id.getProject({ projectId: p }, ctx).then((r) => r.project, () => undefined)));
    return {
      projects: projects.filter((p) => p !== undefined).map((p) => projectView(p, base(req))),
      links: collectionLinks(`${base(req)}/v3/users/${req.params.id}/projects`),
    };
  });

  // ---- groups

  app.post('/v3/groups', { schema: { body: createGroupBody } }, async (req, reply) => {
    const g = (req.body as { group: GroupBody }).group;
    const res = await id.createGroup({ name: g.name ?? '', domainId: g.domain_id ?? '', description: g.description ?? '' }, callContext(req));
    return reply.code(201).send({ group: groupView(res.group!, base(req)) });
  });
  app.get('/v3/groups', async (req) => {
    const res = await id.listGroups({ name: queryValue(req, 'name') ?? '', domainId: queryValue(req, 'domain_id') ?? '' }, callContext(req));
    return { groups: res.groups.map((g) => groupView(g, base(req))), links: collectionLinks(`${base(req)}/v3/groups`) };
  });
  app.get<{ Params: { id: string } }>('/v3/groups/:id', async (req) => ({ group: groupView((await id.getGroup({ groupId: req.params.id }, callContext(req))).group!, base(req)) }));
  app.patch<{ Params: { id: string } }>('/v3/groups/:id', { schema: { body: updateGroupBody } }, async (req) => {
    const g = (req.body as { group: GroupBody }).group;
    const res = await id.updateGroup({ groupId: req.params.id, name: g.name, description: g.description ?? undefined }, callContext(req));
    return { group: groupView(res.group!, base(req)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/groups/:id', async (req, reply) => {
    await id.deleteGroup({ groupId: req.params.id }, callContext(req));
    return noContent(reply);
  });
  app.get<{ Params: { id: string } }>('/v3/groups/:id/users', async (req) => {
    const res = await id.listGroupUsers({ groupId: req.params.id }, callContext(req));
    return { users: res.users.map((u) => userView(u, base(req))), links: collectionLinks(`${base(req)}/v3/groups/${req.params.id}/users`) };
  });
  type Member = { Params: { id: string; user: string } };
  app.put<Member>('/v3/groups/:id/users/:user', async (req, reply) => {
    await id.addUserToGroup({ groupId: req.params.id, userId: req.params.user }, callContext(req));
    return noContent(reply);
  });
  const checkMember = async (req: FastifyRequest<Member>, reply: FastifyReply) => {
    const res = await id.listGroupUsers({ groupId: req.params.id }, callContext(req));
    if (!res.users.some((u) => u.id === req.params.user)) throw new HttpError(404, `User ${req.params.user} is not a member of group ${req.params.id}.`);
    return noContent(reply);
  };
  // HEAD first: fastify then does not derive one from the GET
  app.head<Member>('/v3/groups/:id/users/:user', checkMember);
  app.get<Member>('/v3/groups/:id/users/:user', checkMember);
  app.delete<Member>('/v3/groups/:id/users/:user', async (req, reply) => {
    await id.removeUserFromGroup({ groupId: req.params.id, userId: req.params.user }, callContext(req));
    return noContent(reply);
  });

  // ---- domains

  app.post('/v3/domains', { schema: { body: createDomainBody } }, async (req, reply) => {
    const d = (req.body as { domain: DomainBody & { tags?: string[] } }).domain;
    refuseTags(d.tags);
    const res = await id.createDomain({ name: d.name ?? '', description: d.description ?? '', enabled: d.enabled }, callContext(req));
    return reply.code(201).send({ domain: domainView(res.domain!, base(req)) });
  });
  app.get('/v3/domains', async (req) => {
    const res = await id.listDomains({}, callContext(req));
    const name = queryValue(req, 'name');
    const enabled = queryFlag(queryValue(req, 'enabled'));
    const domains = res.domains.filter((d) => matches(name, d.name) && matches(enabled, d.enabled));
    return { domains: domains.map((d) => domainView(d, base(req))), links: collectionLinks(`${base(req)}/v3/domains`) };
  });
  app.get<{ Params: { id: string } }>('/v3/domains/:id', async (req) => {
    const res = await id.listDomains({}, callContext(req));
    const d = res.domains.find((x) => x.id === req.params.id);
    if (!d) throw new HttpError(404, `Could not find domain: ${req.params.id}.`);
    return { domain: domainView(d, base(req)) };
  });
  app.patch<{ Params: { id: string } }>('/v3/domains/:id', { schema: { body: updateDomainBody } }, async (req) => {
    const d = (req.body as { domain: DomainBody & { tags?: string[] } }).domain;
    refuseTags(d.tags);
    const res = await id.updateDomain({ domainId: req.params.id, name: d.name, description: d.description ?? undefined, enabled: d.enabled }, callContext(req));
    return { domain: domainView(res.domain!, base(req)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/domains/:id', async (req, reply) => {
    try {
      await id.deleteDomain({ domainId: req.params.id }, callContext(req));
    } catch (e) {
      // Keystone's ForbiddenAction for an enabled domain (keystone/resource/core.py delete_domain)
      if (e instanceof MinicloudError && e.reason === 'domain_enabled') throw new HttpError(403, 'Cannot delete a domain that is enabled, please disable it first.');
      throw e;
    }
    return noContent(reply);
  });
}
