import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { identity } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { createRoleBody, updateRoleBody, type RoleBody } from './schemas';
import { collectionLinks, roleAssignmentView, roleView, type AssignmentNames } from './views';

/**
 * The scope and actor of a grant URL: /v3/{projects|domains}/{scope}/{users|groups}/{actor}/roles[/{role}],
 * or Keystone's system grants /v3/system/{users|groups}/{actor}/roles[/{role}] (scope "all").
 */
interface GrantParams {
  scopeKind: 'projects' | 'domains' | 'system';
  scope: string;
  actorKind: 'users' | 'groups';
  actor: string;
  role?: string;
}


/** The RoleAssignment a grant URL names (role id optional, for the list of an actor's roles on a scope). */
function grantOf(p: GrantParams): identity.RoleAssignment {
  return {
    roleId: p.role ?? '',
    roleName: '',
    userId: p.actorKind === 'users' ? p.actor : '',
    groupId: p.actorKind === 'groups' ? p.actor : '',
    projectId: p.scopeKind === 'projects' ? p.scope : '',
    domainId: p.scopeKind === 'domains' ? p.scope : '',
    system: p.scopeKind === 'system' ? 'all' : '',
  };
}

/**
 * Keystone v3 roles (create, list with `name`, show) and grants: PUT/HEAD/GET/DELETE
 * /v3/{projects|domains}/{id}/{users|groups}/{id}/roles/{role_id} and /v3/system/{users|groups}/{id}/roles/{role_id}
 * (Keystone's system role assignments), and the list of an actor's roles
 * on a scope, each IdentityService's Assign/Unassign/ListRoleAssignments with the caller's token.
 */
export async function roleRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const id = deps.backends.identity;
  const base = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/identity`;

  app.post('/v3/roles', { schema: { body: createRoleBody } }, async (req, reply) => {
    const r = (req.body as { role: RoleBody }).role;
    const res = await id.createRole({ name: r.name ?? '', implies: [] }, callContext(req));
    return reply.code(201).send({ role: roleView(res.role!, base(req)) });
  });
  app.get('/v3/roles', async (req) => {
    const res = await id.listRoles({}, callContext(req));
    const name = queryValue(req, 'name');
    return { roles: res.roles.filter((r) => !name || r.name === name).map((r) => roleView(r, base(req))), links: collectionLinks(`${base(req)}/v3/roles`) };
  });
  app.get<{ Params: { id: string } }>('/v3/roles/:id', async (req) => {
    const res = await id.listRoles({}, callContext(req));
    const r = res.roles.find((x) => x.id === req.params.id);
    if (!r) throw new HttpError(404, `Could not find role: ${req.params.id}.`);
    return { role: roleView(r, base(req)) };
  });

  app.patch<{ Params: { id: string } }>('/v3/roles/:id', { schema: { body: updateRoleBody } }, async (req) => {
    const r = (req.body as { role: RoleBody }).role;
    const res = await id.updateRole({ roleId: req.params.id, name: r.name }, callContext(req));
    return { role: roleView(res.role!, base(req)) };
  });
  app.delete<{ Params: { id: string } }>('/v3/roles/:id', async (req, reply) => {
    await id.deleteRole({ roleId: req.params.id }, callContext(req));
    return reply.code(204).send();
  });

  // ---- implied roles (Keystone's role inference rules)

  const roleRef = (r: identity.Role, req: FastifyRequest) => ({ id: r.id, name: r.name, links: { self: `${base(req)}/v3/roles/${r.id}` } });
  /** The prior role and, when named, the implied one; both must exist (404 otherwise). */
  const inference = async (req: FastifyRequest<{ Params: { prior: string; implied?: string } }>) => {
    const { roles } = await id.listRoles({}, callContext(req));
    const find = (rid: string) => {
      const r = roles.find((x) => x.id === rid);
      if (!r) throw new HttpError(404, `Could not find role: ${rid}.`);
      return r;
    };
    const prior = find(req.params.prior);
    return { roles, prior, implied: req.params.implied ? find(req.params.implied) : undefined };
  };
  type Inference = { Params: { prior: string; implied: string } };
  app.put<Inference>('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    const { prior, implied } = await inference(req);
    await id.updateRole({ roleId: prior.id, updateImplies: true, implies: [...new Set([...prior.implies, implied!.name])] }, callContext(req));
    return reply.code(201).send({ role_inference: { prior_role: roleRef(prior, req), implies: roleRef(implied!, req) }, links: { self: `${base(req)}/v3/roles/${prior.id}/implies/${implied!.id}` } });
  });
  const implication = async (req: FastifyRequest<Inference>) => {
    const found = await inference(req);
    if (!found.prior.implies.includes(found.implied!.name)) throw new HttpError(404, `Could not find implied role: ${req.params.implied}.`);
    return found;
  };
  app.head<Inference>('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    await implication(req);
    return reply.code(204).send();
  });
  app.get<Inference>('/v3/roles/:prior/implies/:implied', async (req) => {
    const { prior, implied } = await implication(req);
    return { role_inference: { prior_role: roleRef(prior, req), implies: roleRef(implied!, req) }, links: { self: `${base(req)}/v3/roles/${prior.id}/implies/${implied!.id}` } };
  });
  app.delete<Inference>('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    const { prior, implied } = await implication(req);
    await id.updateRole({ roleId: prior.id, updateImplies: true, implies: prior.implies.filter((n) => n !== implied!.name) }, callContext(req));
    return reply.code(204).send();
  });
  const inferenceOf = (prior: identity.Role, roles: identity.Role[], req: FastifyRequest) => ({
    prior_role: roleRef(prior, req),
    implies: prior.implies.map((n) => roles.find((r) => r.name === n)).filter((r): r is identity.Role => !!r).map((r) => roleRef(r, req)),
  });
  app.get<{ Params: { prior: string } }>('/v3/roles/:prior/implies', async (req) => {
    const { prior, roles } = await inference(req);
    return { role_inference: inferenceOf(prior, roles, req), links: { self: `${base(req)}/v3/roles/${prior.id}/implies` } };
  });
  app.get('/v3/role_inferences', async (req) => {
    const { roles } = await id.listRoles({}, callContext(req));
    return { role_inferences: roles.filter((r) => r.implies.length).map((r) => inferenceOf(r, roles, req)), links: collectionLinks(`${base(req)}/v3/role_inferences`) };
  });

  app.get('/v3/role_assignments', async (req) => {
    const ctx = callContext(req);
    const q = (name: string) => queryValue(req, name) ?? '';
    // a flag filter counts when present without a value (`?effective`), as Keystone reads it
    const flag = (name: string) => {
      const v = queryValue(req, name);
      return v !== undefined && (v === '' || !['0', 'false', 'no', 'off', 'n', 'f'].includes(v.toLowerCase()));
    };
    const effective = flag('effective');
    if (effective && q('group.id')) throw new HttpError(400, 'Combining effective and group filter will always result in an empty list.');
    const { assignments } = await id.listRoleAssignments(
      { userId: q('user.id'), groupId: q('group.id'), projectId: q('scope.project.id'), domainId: q('scope.domain.id'), roleId: q('role.id'), effective, system: q('scope.system') },
      ctx,
    );
    let names: AssignmentNames | undefined;
    if (flag('include_names')) {
      const [roles, users, groups, projects, domains] = await Promise.all([
        id.listRoles({}, ctx),
        id.listUsers({ domainId: '', page: { pageSize: 1000 } }, ctx),
        id.listGroups({}, ctx).catch(() => ({ groups: [] })),
        id.listProjects({ domainId: '', page: { pageSize: 1000 } }, ctx),
        id.listDomains({}, ctx),
      ]);
      const named = (xs: { id: string; name: string; domainId: string }[]) => new Map(xs.map((x) => [x.id, { name: x.name, domainId: x.domainId }]));
      names = {
        roles: new Map(roles.roles.map((r) => [r.id, r.name])),
        users: named(users.users),
        groups: named(groups.groups),
        projects: named(projects.projects),
        domains: new Map(domains.domains.map((d) => [d.id, d.name])),
      };
    }
    return { role_assignments: assignments.map((a) => roleAssignmentView(a, base(req), names)), links: collectionLinks(`${base(req)}/v3/role_assignments`) };
  });

  /** The direct assignments matching a grant URL (role optional). */
  const assignmentsOf = async (req: FastifyRequest, g: identity.RoleAssignment) => {
    const res = await id.listRoleAssignments({ userId: g.userId, groupId: g.groupId, projectId: g.projectId, domainId: g.domainId, roleId: g.roleId, system: g.system, effective: false }, callContext(req));
    return res.assignments.filter(
      (a) => a.userId === g.userId && a.groupId === g.groupId && a.projectId === g.projectId && a.domainId === g.domainId && a.system === g.system && (!g.roleId || a.roleId === g.roleId),
    );
  };
  const checkGrant = async (req: FastifyRequest, reply: FastifyReply, p: GrantParams) => {
    const g = grantOf(p);
    if (!(await assignmentsOf(req, g)).length) {
      const scope = g.system ? `system: ${g.system}` : `${g.projectId ? 'project' : 'domain'}: ${g.projectId || g.domainId}`;
      throw new HttpError(404, `Could not find role assignment with role: ${g.roleId}, ${g.userId ? 'user' : 'group'}: ${g.userId || g.groupId}, ${scope}.`);
    }
    return reply.code(204).send();
  };

  for (const scopeKind of ['projects', 'domains', 'system'] as const) {
    for (const actorKind of ['users', 'groups'] as const) {
      type Params = { scope: string; actor: string; role: string };
      const grantPath = scopeKind === 'system' ? `/v3/system/${actorKind}/:actor/roles` : `/v3/${scopeKind}/:scope/${actorKind}/:actor/roles`;
      const params = (req: FastifyRequest<{ Params: Params }>): GrantParams => ({ scopeKind, actorKind, ...req.params, scope: scopeKind === 'system' ? 'all' : req.params.scope });
      app.put<{ Params: Params }>(`${grantPath}/:role`, async (req, reply) => {
        await id.assignRole({ assignment: grantOf(params(req)) }, callContext(req));
        return reply.code(204).send();
      });
      // HEAD first: fastify then does not derive one from the GET
      app.head<{ Params: Params }>(`${grantPath}/:role`, (req, reply) => checkGrant(req, reply, params(req)));
      app.get<{ Params: Params }>(`${grantPath}/:role`, (req, reply) => checkGrant(req, reply, params(req)));
      app.delete<{ Params: Params }>(`${grantPath}/:role`, async (req, reply) => {
        await id.unassignRole({ assignment: grantOf(params(req)) }, callContext(req));
        return reply.code(204).send();
      });
      app.get<{ Params: Omit<Params, 'role'> }>(grantPath, async (req) => {
        const mine = new Set((await assignmentsOf(req, grantOf({ scopeKind, actorKind, ...req.params, scope: scopeKind === 'system' ? 'all' : req.params.scope }))).map((a) => a.roleId));
        const roles = (await id.listRoles({}, callContext(req))).roles.filter((r) => mine.has(r.id));
        return { roles: roles.map((r) => roleView(r, base(req))), links: collectionLinks(`${baseUrl(req, deps.publicUrl)}${req.url.split('?')[0]}`) };
      });
    }
  }
}
