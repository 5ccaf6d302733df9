import type { FastifyInstance } from 'fastify';
import { identity } from '@minicloud/proto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall } from '../http/test-kit';
import { catalogSeed } from './catalog';

/**
 * Keystone v3 admin routes over fake IdentityService: the fake keeps projects, users, roles and
 * assignments in memory and refuses non-admin writes as the policy table does.
 */
describe('Keystone v3 admin (real HTTP, fake IdentityService)', () => {
  let app: FastifyInstance;
  let calls: RecordedCall[];
  const caller = fakeCaller({ admin: { roles: ['admin'] }, demo: { roles: ['member'] }, issued: { roles: ['lead'] } });
  const as = (token: string, opts: Parameters<typeof requestAs>[1]) => requestAs(app, opts, token);

  beforeEach(async () => {
    calls = [];
    const projects = new Map<string, identity.Project>();
    const users = new Map<string, identity.User>();
    const roles = new Map<string, identity.Role>([['r-member', identity.Role.fromPartial({ id: 'r-member', name: 'member' })]]);
    let assignments: identity.RoleAssignment[] = [];
    let seq = 0;
    const admin = (opts: RecordedCall['opts']) => {
      if (!caller(opts).roles.includes('admin')) throw new PermissionDeniedError('admin required');
    };
    const cat = catalogSeed('RegionOne');
    const reader = (opts: RecordedCall['opts']) => caller(opts);
    const regionOf = (rid: string) => {
      const r = cat.regions.find((x) => x.id === rid);
      if (!r) throw new NotFoundError('region', rid);
      return r;
    };
    const serviceOf = (sid: string) => {
      const x = cat.services.find((y) => y.id === sid);
      if (!x) throw new NotFoundError('service', sid);
      return x;
    };
    const endpointOf = (eid: string) => {
      const x = cat.endpoints.find((y) => y.id === eid);
      if (!x) throw new NotFoundError('endpoint', eid);
      return x;
    };
    const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
    /** identity's service catalog as its store keeps it (the cascades and refusals of ServiceCatalogStore). */
    const catalogImpl = {
      listServiceCatalog: (_: unknown, opts: RecordedCall['opts']) => (reader(opts), cat),
      createRegion: (req: identity.CreateRegionRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        const rid = req.id || `r${++seq}`;
        if (cat.regions.some((r) => r.id === rid)) throw new AlreadyExistsError('region', rid);
        if (req.parentRegionId) regionOf(req.parentRegionId);
        const r = { id: rid, description: req.description, parentRegionId: req.parentRegionId };
        cat.regions.push(r);
        return { region: r };
      },
      updateRegion: (req: identity.UpdateRegionRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        const r = regionOf(req.regionId);
        for (let p = req.parentRegionId; p; p = cat.regions.find((x) => x.id === p)?.parentRegionId) if (p === r.id) throw new InvalidArgumentError('parent_region_id', 'cycle');
        Object.assign(r, defined({ description: req.description, parentRegionId: req.parentRegionId }));
        return { region: r };
      },
      deleteRegion: (req: identity.DeleteRegionRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        regionOf(req.regionId);
        const doomed = new Set([req.regionId, ...cat.regions.filter((r) => r.parentRegionId === req.regionId).map((r) => r.id)]);
        if (cat.endpoints.some((e) => doomed.has(e.regionId))) throw new FailedPreconditionError('region has endpoints', 'region_has_endpoints');
        cat.regions = cat.regions.filter((r) => !doomed.has(r.id));
        return {};
      },
      createCatalogService: (req: identity.CreateCatalogServiceRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        const x = { id: `s${++seq}`, ...req };
        cat.services.push(x);
        return { service: x };
      },
      updateCatalogService: (req: identity.UpdateCatalogServiceRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        const x = serviceOf(req.serviceId);
        Object.assign(x, defined({ type: req.type, name: req.name, description: req.description, enabled: req.enabled }));
        return { service: x };
      },
      deleteCatalogService: (req: identity.DeleteCatalogServiceRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        serviceOf(req.serviceId);
        cat.services = cat.services.filter((x) => x.id !== req.serviceId);
        cat.endpoints = cat.endpoints.filter((e) => e.serviceId !== req.serviceId);
        return {};
      },
      createCatalogEndpoint: (req: identity.CreateCatalogEndpointRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        if (!cat.services.some((x) => x.id === req.serviceId)) throw new InvalidArgumentError('service_id', 'no such service');
        if (req.regionId && !cat.regions.some((r) => r.id === req.regionId)) {
          if (!req.createRegion) throw new InvalidArgumentError('region_id', 'no such region');
          cat.regions.push({ id: req.regionId, description: '', parentRegionId: '' });
        }
        const e = { id: `e${++seq}`, serviceId: req.serviceId, regionId: req.regionId, interface: req.interface, url: req.url, enabled: req.enabled };
        cat.endpoints.push(e);
        return { endpoint: e };
      },
      updateCatalogEndpoint: (req: identity.UpdateCatalogEndpointRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        const e = endpointOf(req.endpointId);
        if (req.regionId && !cat.regions.some((r) => r.id === req.regionId)) {
          if (!req.createRegion) throw new InvalidArgumentError('region_id', 'no such region');
          cat.regions.push({ id: req.regionId, description: '', parentRegionId: '' });
        }
        Object.assign(e, defined({ serviceId: req.serviceId, regionId: req.regionId, interface: req.interface, url: req.url, enabled: req.enabled }));
        return { endpoint: e };
      },
      deleteCatalogEndpoint: (req: identity.DeleteCatalogEndpointRequest, opts: RecordedCall['opts']) => {
        admin(opts);
        endpointOf(req.endpointId);
        cat.endpoints = cat.endpoints.filter((e) => e.id !== req.endpointId);
        return {};
      },
    };
    app = await listenFront(
      fakeBackends(calls, {
        ...catalogImpl,
        createProject: (req: identity.CreateProjectRequest, opts) => {
          admin(opts);
          if ([...projects.values()].some((p) => p.name === req.name)) throw new AlreadyExistsError('project', req.name);
          const p = identity.Project.fromPartial({ id: `p${++seq}`, name: req.name, domainId: req.domainId || 'default', description: req.description, enabled: true, tags: req.tags });
          projects.set(p.id, p);
          return { project: p };
        },
        getProject: (req: identity.GetProjectRequest, opts) => {
          caller(opts);
          const p = projects.get(req.projectId);
          if (!p) throw new NotFoundError('project', req.projectId);
          return { project: p };
        },
        deleteProject: (req: identity.DeleteProjectRequest, opts) => {
          admin(opts);
          if (!projects.delete(req.projectId)) throw new NotFoundError('project', req.projectId);
          assignments = assignments.filter((a) => a.projectId !== req.projectId);
          return {};
        },
        createUser: (req: identity.CreateUserRequest, opts) => {
          admin(opts);
          const u = identity.User.fromPartial({ id: `u${++seq}`, name: req.name, domainId: req.domainId || 'default', defaultProjectId: req.defaultProjectId, email: req.email, enabled: true, extraJson: req.extraJson });
          users.set(u.id, u);
          return { user: u };
        },
        deleteUser: (req: identity.DeleteUserRequest, opts) => {
          admin(opts);
          if (!users.delete(req.userId)) throw new NotFoundError('user', req.userId);
          return {};
        },
        createRole: (req: identity.CreateRoleRequest, opts) => {
          admin(opts);
          const r = identity.Role.fromPartial({ id: `r${++seq}`, name: req.name });
          roles.set(r.id, r);
          return { role: r };
        },
        listRoles: (_req: never, opts) => {
          caller(opts);
          return { roles: [...roles.values()] };
        },
        assignRole: (req: identity.AssignRoleRequest, opts) => {
          admin(opts);
          const a = req.assignment!;
          if (!roles.has(a.roleId)) throw new NotFoundError('role', a.roleId);
          assignments.push(a);
          return {};
        },
        unassignRole: (req: identity.UnassignRoleRequest, opts) => {
          admin(opts);
          const a = req.assignment!;
          const before = assignments.length;
          assignments = assignments.filter((x) => !(x.roleId === a.roleId && x.userId === a.userId && x.projectId === a.projectId && x.system === a.system));
          if (assignments.length === before) throw new NotFoundError('role_assignment', a.roleId);
          return {};
        },
        listRoleAssignments: (req: identity.ListRoleAssignmentsRequest, opts) => {
          caller(opts);
          return {
            assignments: assignments.filter(
              (a) =>
                (!req.userId || a.userId === req.userId) &&
                (!req.projectId || a.projectId === req.projectId) &&
                (!req.groupId || a.groupId === req.groupId) &&
                (!req.roleId || a.roleId === req.roleId) &&
                (!req.system || a.system === req.system),
            ),
          };
        },
        listUsers: () => ({ users: [...users.values()] }),
        listProjects: () => ({ projects: [...projects.values()] }),
        listGroups: () => ({ groups: [] }),
        listDomains: () => ({ domains: [identity.Domain.fromPartial({ id: 'default', name: 'Default', enabled: true }), identity.Domain.fromPartial({ id: 'd2', name: 'acme', enabled: true })] }),
        updateProject: (req: identity.UpdateProjectRequest, opts) => {
          admin(opts);
          const p = projects.get(req.projectId);
          if (!p) throw new NotFoundError('project', req.projectId);
          Object.assign(p, { ...(req.name !== undefined ? { name: req.name } : {}), ...(req.enabled !== undefined ? { enabled: req.enabled } : {}), ...(req.updateTags ? { tags: req.tags } : {}) });
          return { project: p };
        },
        deleteDomain: (req: identity.DeleteDomainRequest, opts) => {
          admin(opts);
          if (req.domainId === 'd2') throw new FailedPreconditionError('domain d2 is enabled', 'domain_enabled');
          return {};
        },
        validateToken: (req: identity.ValidateTokenRequest, opts) => {
          caller(opts);
          if (req.token === 'revoked') throw new NotFoundError('token', 'subject', 'token revoked');
          return { info: identity.TokenInfo.fromPartial({ userId: opts.token === 'admin' ? 'u-admin' : 'u-demo', projectId: 'p0', roles: caller(opts).roles }) };
        },
        authenticate: (req: identity.AuthenticateRequest) => ({
          token: 'issued',
          info: identity.TokenInfo.fromPartial({
            userId: 'u9',
            userName: 'nina',
            domainId: 'default',
            domainName: 'Default',
            ...(req.unscoped
              ? {}
              : req.systemScope
                ? { system: req.systemScope, roles: ['admin', 'member'], roleRefs: [{ id: 'r-admin', name: 'admin' }, { id: 'r-member', name: 'member' }] }
                : { projectId: 'p0', projectName: 'team', roles: ['lead'], roleRefs: [{ id: 'r-lead', name: 'lead' }], isAdminProject: false }),
            issuedAt: new Date(0),
            expiresAt: new Date(3600_000),
          }),
        }),
                createApplicationCredential: (req: identity.CreateApplicationCredentialRequest, opts) => {
          caller(opts);
          return { credential: identity.ApplicationCredential.fromPartial({ id: 'ac1', name: req.name, userId: 'u-demo', projectId: 'p0', roles: req.roles, expiresAt: req.expiresAt }), secret: 's3cr3t' };
        },
      }),
    );
  });
  afterEach(() => app.close());

  it('creates a project (201, links) and a user in it; a duplicate name is a 409 in Keystone\'s error form', async () => {
    const p = await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team', description: 'd', domain_id: 'default' } } });
    expect(p.statusCode).toBe(201);
    expect(p.json().project).toMatchObject({ id: 'p1', name: 'team', domain_id: 'default', description: 'd', enabled: true, parent_id: 'default', links: { self: 'http://api.test:5080/identity/v3/projects/p1' } });
    expect(calls.find((c) => c.method === 'createProject')).toMatchObject({ req: { name: 'team', domainId: 'default', description: 'd' }, opts: { token: 'admin' } });

    const dup = await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team' } } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: 409, title: 'Conflict' });

    const u = await as('admin', { method: 'POST', url: '/identity/v3/users', payload: { user: { name: 'alice', password: 's3cret', domain_id: 'default', default_project_id: 'p1', email: 'a@example.org' } } });
    expect(u.statusCode).toBe(201);
    expect(u.json().user).toMatchObject({ id: 'u2', name: 'alice', domain_id: 'default', default_project_id: 'p1', email: 'a@example.org', enabled: true });
    expect(u.json().user.password).toBeUndefined();
    expect(calls.find((c) => c.method === 'createUser')?.req).toMatchObject({ password: 's3cret', defaultProjectId: 'p1', extraJson: '' });
    // attributes Keystone has no column for go to identity as extras
    await as('admin', { method: 'POST', url: '/identity/v3/users', payload: { user: { name: 'bob', password: 'x', project_id: 'p1', team: 'blue' } } });
    expect(calls.filter((c) => c.method === 'createUser').pop()?.req).toMatchObject({ extraJson: '{"project_id":"p1","team":"blue"}' });
  });

  it('grants a role on a project: PUT 204, HEAD/GET 204, the list of roles, DELETE 204, then HEAD 404', async () => {
    await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team' } } });
    await as('admin', { method: 'POST', url: '/identity/v3/users', payload: { user: { name: 'alice', password: 'x' } } });
    const grant = '/identity/v3/projects/p1/users/u2/roles/r-member';
    expect((await as('admin', { method: 'HEAD', url: grant })).statusCode).toBe(404);
    expect((await as('admin', { method: 'PUT', url: grant })).statusCode).toBe(204);
    expect((await as('admin', { method: 'HEAD', url: grant })).statusCode).toBe(204);
    expect((await as('admin', { url: grant })).statusCode).toBe(204);
    const list = await as('admin', { url: '/identity/v3/projects/p1/users/u2/roles' });
    expect(list.json().roles.map((r: { name: string }) => r.name)).toEqual(['member']);
    expect((await as('admin', { method: 'DELETE', url: grant })).statusCode).toBe(204);
    expect((await as('admin', { method: 'HEAD', url: grant })).statusCode).toBe(404);
    const missing = await as('admin', { method: 'DELETE', url: grant });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe(404);
    expect((await as('admin', { method: 'PUT', url: '/identity/v3/projects/p1/users/u2/roles/nope' })).statusCode).toBe(404);
  });

  it("grants a role on the system (Keystone's /v3/system/users/{id}/roles/{role}) and lists it with scope.system=all", async () => {
    await as('admin', { method: 'POST', url: '/identity/v3/users', payload: { user: { name: 'ops', password: 'x' } } });
    const grant = '/identity/v3/system/users/u1/roles/r-member';
    expect((await as('admin', { method: 'HEAD', url: grant })).statusCode).toBe(404);
    expect((await as('admin', { method: 'PUT', url: grant })).statusCode).toBe(204);
    expect(calls.find((c) => c.method === 'assignRole')?.req).toMatchObject({ assignment: { userId: 'u1', roleId: 'r-member', system: 'all', projectId: '', domainId: '' } });
    expect((await as('admin', { method: 'HEAD', url: grant })).statusCode).toBe(204);
    expect((await as('admin', { url: '/identity/v3/system/users/u1/roles' })).json().roles.map((r: { name: string }) => r.name)).toEqual(['member']);
    // not a project grant
    expect((await as('admin', { url: '/identity/v3/projects/p1/users/u1/roles' })).json().roles).toEqual([]);
    const listed = (await as('admin', { url: '/identity/v3/role_assignments?scope.system=all' })).json().role_assignments;
    expect(calls.filter((c) => c.method === 'listRoleAssignments').pop()?.req).toMatchObject({ system: 'all' });
    expect(listed).toEqual([
      { role: { id: 'r-member' }, scope: { system: { all: true } }, user: { id: 'u1' }, links: { assignment: 'http://api.test:5080/identity/v3/system/users/u1/roles/r-member' } },
    ]);
    expect((await as('demo', { method: 'PUT', url: grant.replace('u1', 'u9') })).statusCode).toBe(403);
    expect((await as('admin', { method: 'DELETE', url: grant })).statusCode).toBe(204);
    expect((await as('admin', { method: 'HEAD', url: grant })).statusCode).toBe(404);
  });

  it('creates a role (201) found by name; deletes users and projects (204, then 404)', async () => {
    const r = await as('admin', { method: 'POST', url: '/identity/v3/roles', payload: { role: { name: 'reader' } } });
    expect(r.statusCode).toBe(201);
    expect(r.json().role).toMatchObject({ name: 'reader', domain_id: null, links: { self: expect.stringContaining('/identity/v3/roles/') } });
    const byName = await as('admin', { url: '/identity/v3/roles?name=reader' });
    expect(byName.json().roles).toHaveLength(1);
    await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team' } } });
    expect((await as('admin', { method: 'DELETE', url: '/identity/v3/projects/p2' })).statusCode).toBe(204);
    expect((await as('admin', { url: '/identity/v3/projects/p2' })).statusCode).toBe(404);
    expect((await as('admin', { method: 'DELETE', url: '/identity/v3/users/none' })).statusCode).toBe(404);
  });

  it('a member is refused (403), no token is a 401, a malformed body a 400 naming the field', async () => {
    const member = await as('demo', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'x' } } });
    expect(member.statusCode).toBe(403);
    expect(member.json().error).toMatchObject({ code: 403, title: 'Forbidden' });
    expect((await as('', { method: 'POST', url: '/identity/v3/users', payload: { user: { name: 'x' } } })).statusCode).toBe(401);
    const bad = await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 7 } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('project.name');
    const missing = await as('admin', { method: 'POST', url: '/identity/v3/users', payload: { user: {} } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toContain('name');
    expect((await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'x', surprise: 1 } } })).statusCode).toBe(400);
  });

  it('lists role assignments with Keystone\'s dotted filters, links and include_names', async () => {
    await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team' } } });
    await as('admin', { method: 'POST', url: '/identity/v3/users', payload: { user: { name: 'alice', password: 'x' } } });
    await as('admin', { method: 'PUT', url: '/identity/v3/projects/p1/users/u2/roles/r-member' });
    const res = await as('admin', { url: '/identity/v3/role_assignments?user.id=u2&scope.project.id=p1&effective&include_names' });
    expect(res.statusCode).toBe(200);
    expect(calls.filter((c) => c.method === 'listRoleAssignments').pop()?.req).toMatchObject({ userId: 'u2', projectId: 'p1', effective: true });
    expect(res.json().role_assignments).toEqual([
      {
        role: { id: 'r-member', name: 'member' },
        scope: { project: { id: 'p1', name: 'team', domain: { id: 'default', name: 'Default' } } },
        user: { id: 'u2', name: 'alice', domain: { id: 'default', name: 'Default' } },
        links: { assignment: 'http://api.test:5080/identity/v3/projects/p1/users/u2/roles/r-member' },
      },
    ]);
    expect((await as('admin', { url: '/identity/v3/role_assignments?group.id=g&effective' })).statusCode).toBe(400);
  });

  it('PATCH of a project renames and disables it; domain_id cannot change (400); an enabled domain is not deleted (403)', async () => {
    await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team' } } });
    const patched = await as('admin', { method: 'PATCH', url: '/identity/v3/projects/p1', payload: { project: { name: 'team2', enabled: false } } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().project).toMatchObject({ name: 'team2', enabled: false });
    expect((await as('admin', { url: '/identity/v3/projects?enabled=false' })).json().projects.map((p: { id: string }) => p.id)).toEqual(['p1']);
    expect((await as('admin', { url: '/identity/v3/projects?enabled=true' })).json().projects).toEqual([]);
    expect((await as('admin', { method: 'PATCH', url: '/identity/v3/projects/p1', payload: { project: { domain_id: 'd2' } } })).statusCode).toBe(400);
    const enabled = await as('admin', { method: 'DELETE', url: '/identity/v3/domains/d2' });
    expect(enabled.statusCode).toBe(403);
    expect(enabled.json().error.message).toBe('Cannot delete a domain that is enabled, please disable it first.');
    expect((await as('admin', { method: 'DELETE', url: '/identity/v3/domains/default' })).statusCode).toBe(204);
    expect((await as('demo', { method: 'PATCH', url: '/identity/v3/projects/p1', payload: { project: { name: 'x' } } })).statusCode).toBe(403);
  });

  it('a revoked or unknown subject token is 404; a bad caller token 401', async () => {
    const revoked = await as('admin', { url: '/identity/v3/auth/tokens', headers: { 'x-subject-token': 'revoked' } });
    expect(revoked.statusCode).toBe(404);
    expect(revoked.json().error).toMatchObject({ code: 404, title: 'Not Found' });
    expect((await as('bogus', { url: '/identity/v3/auth/tokens', headers: { 'x-subject-token': 'revoked' } })).statusCode).toBe(401);
  });

  it('application credentials: created by their owner under /v3/users/{id} (secret once); another user\'s path is 403', async () => {
    const res = await as('demo', {
      method: 'POST',
      url: '/identity/v3/users/u-demo/application_credentials',
      payload: { application_credential: { name: 'ci', roles: [{ id: 'r-member' }], expires_at: '2030-01-01T00:00:00' } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().application_credential).toMatchObject({ id: 'ac1', name: 'ci', secret: 's3cr3t', roles: [{ id: 'r-member', name: 'member' }], expires_at: '2030-01-01T00:00:00.000000Z' });
    expect(calls.find((c) => c.method === 'createApplicationCredential')?.req).toMatchObject({ roles: ['member'], expiresAt: new Date('2030-01-01T00:00:00Z') });
    const other = await as('demo', { method: 'POST', url: '/identity/v3/users/u-admin/application_credentials', payload: { application_credential: { name: 'x' } } });
    expect(other.statusCode).toBe(403);
    const bad = await as('demo', { method: 'POST', url: '/identity/v3/users/u-demo/application_credentials', payload: { application_credential: { name: 'x', expires_at: 'soon' } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('expires_at');
  });

  it('tokens: an unscoped one names no project, roles or catalog; a scoped one carries role ids from identity', async () => {
    const body = (scope: unknown) => ({ auth: { identity: { methods: ['password'], password: { user: { name: 'nina', domain: { id: 'default' }, password: 'pw' } } }, scope } });
    const unscoped = await as('', { method: 'POST', url: '/identity/v3/auth/tokens', payload: body('unscoped') });
    expect(unscoped.statusCode).toBe(201);
    expect(calls.find((c) => c.method === 'authenticate')?.req).toMatchObject({ unscoped: true });
    const t = unscoped.json().token;
    expect(t.user).toMatchObject({ id: 'u9', name: 'nina', domain: { id: 'default', name: 'Default' } });
    expect(t).not.toHaveProperty('project');
    expect(t).not.toHaveProperty('roles');
    expect(t).not.toHaveProperty('catalog');
    // a member with only a role of their own (who may not list roles) still gets its id
    const scoped = (await as('', { method: 'POST', url: '/identity/v3/auth/tokens', payload: body(undefined) })).json().token;
    expect(scoped.roles).toEqual([{ id: 'r-lead', name: 'lead' }]);
    expect(scoped.project).toMatchObject({ id: 'p0', name: 'team', domain: { id: 'default', name: 'Default' } });
    expect(scoped.is_admin_project).toBe(false);
  });

  it('tokens: a system-scoped one ("system": {"all": true}) names the system, no project, and has a catalog; bad system scopes are 400', async () => {
    const body = (scope: unknown) => ({ auth: { identity: { methods: ['password'], password: { user: { name: 'nina', domain: { id: 'default' }, password: 'pw' } } }, scope } });
    const res = await as('', { method: 'POST', url: '/identity/v3/auth/tokens', payload: body({ system: { all: true } }) });
    expect(res.statusCode).toBe(201);
    expect(calls.find((c) => c.method === 'authenticate')?.req).toMatchObject({ systemScope: 'all', projectName: '', projectId: '', unscoped: false });
    const t = res.json().token;
    expect(t.system).toEqual({ all: true });
    expect(t).not.toHaveProperty('project');
    expect(t).not.toHaveProperty('is_admin_project');
    expect(t.roles).toEqual([{ id: 'r-admin', name: 'admin' }, { id: 'r-member', name: 'member' }]);
    expect(t.catalog.length).toBeGreaterThan(0);
    const before = calls.filter((c) => c.method === 'authenticate').length;
    for (const scope of [{ system: { all: false } }, { system: {} }, { system: { all: true }, project: { name: 'team', domain: { id: 'default' } } }]) {
      expect((await as('', { method: 'POST', url: '/identity/v3/auth/tokens', payload: body(scope) })).statusCode).toBe(400);
    }
    expect(calls.filter((c) => c.method === 'authenticate').length).toBe(before);
  });

  it('regions, services and endpoints: a fresh catalog is what tokens list; any token reads, with filters; unknown ids 404; no token 401', async () => {
    const token = (await as('', { method: 'POST', url: '/identity/v3/auth/tokens', payload: { auth: { identity: { methods: ['password'], password: { user: { name: 'nina', domain: { id: 'default' }, password: 'pw' } } } } } })).json().token;
    const services = (await as('demo', { url: '/identity/v3/services' })).json().services;
    expect(services.map((x: { type: string }) => x.type)).toEqual(token.catalog.map((c: { type: string }) => c.type));
    expect(services.map((x: { id: string }) => x.id)).toEqual(token.catalog.map((c: { id: string }) => c.id));
    const compute = services.find((x: { type: string }) => x.type === 'compute');
    const endpoints = (await as('demo', { url: `/identity/v3/endpoints?service_id=${compute.id}&interface=public` })).json().endpoints;
    const inToken = token.catalog.find((c: { type: string }) => c.type === 'compute').endpoints.find((e: { interface: string }) => e.interface === 'public');
    expect(endpoints).toEqual([expect.objectContaining({ id: inToken.id, url: inToken.url, region: 'RegionOne', region_id: 'RegionOne', service_id: compute.id, enabled: true })]);
    expect((await as('demo', { url: `/identity/v3/endpoints/${inToken.id}` })).json().endpoint.url).toBe('http://api.test:5080/compute/v2.1');
    // Keystone stores the project placeholder in the URL; the token fills it
    const volume = (await as('demo', { url: '/identity/v3/endpoints' })).json().endpoints.find((e: { url: string }) => e.url.includes('/volume/'));
    expect(volume.url).toBe('http://api.test:5080/volume/v3/$(project_id)s');
    expect((await as('demo', { url: '/identity/v3/regions/RegionOne' })).json().region).toMatchObject({ id: 'RegionOne', parent_region_id: null });
    expect((await as('demo', { url: '/identity/v3/services/nope' })).statusCode).toBe(404);
    expect((await as('demo', { url: '/identity/v3/endpoints/nope' })).statusCode).toBe(404);
    expect((await as('', { url: '/identity/v3/services' })).statusCode).toBe(401);
    expect((await as('', { url: '/identity/v3/regions' })).statusCode).toBe(401);
  });

  it('catalog writes (admin): services, endpoints (legacy region created), regions (by POST and PUT); tokens follow; cascades; a region with endpoints is 403', async () => {
    const svc = await as('admin', { method: 'POST', url: '/identity/v3/services', payload: { service: { type: 'dns', name: 'designate', description: 'DNS' } } });
    expect(svc.statusCode).toBe(201);
    const service = svc.json().service;
    expect(service).toMatchObject({ type: 'dns', name: 'designate', description: 'DNS', enabled: true, links: { self: `http://api.test:5080/identity/v3/services/${service.id}` } });
    const ep = await as('admin', { method: 'POST', url: '/identity/v3/endpoints', payload: { endpoint: { service_id: service.id, interface: 'public', url: 'http://dns.example:9001', region: 'RegionTwo', enabled: true } } });
    expect(ep.statusCode).toBe(201);
    const endpoint = ep.json().endpoint;
    expect(endpoint).toMatchObject({ service_id: service.id, interface: 'public', url: 'http://dns.example:9001', region: 'RegionTwo', region_id: 'RegionTwo', enabled: true });
    expect((await as('demo', { url: '/identity/v3/regions/RegionTwo' })).json().region).toMatchObject({ id: 'RegionTwo', parent_region_id: null });
    const catalog = (await as('demo', { url: '/identity/v3/auth/catalog' })).json().catalog;
    expect(catalog.find((c: { type: string }) => c.type === 'dns')).toEqual({ id: service.id, type: 'dns', name: 'designate', endpoints: [{ id: endpoint.id, interface: 'public', region: 'RegionTwo', region_id: 'RegionTwo', url: 'http://dns.example:9001' }] });
    // an unknown region_id (not the legacy region) is refused
    expect((await as('admin', { method: 'POST', url: '/identity/v3/endpoints', payload: { endpoint: { service_id: service.id, interface: 'public', url: 'http://x', region_id: 'Nowhere' } } })).statusCode).toBe(400);

    const patched = await as('admin', { method: 'PATCH', url: `/identity/v3/endpoints/${endpoint.id}`, payload: { endpoint: { url: 'http://dns.example:9002', enabled: false } } });
    expect(patched.json().endpoint).toMatchObject({ url: 'http://dns.example:9002', enabled: false });
    expect((await as('admin', { method: 'PATCH', url: `/identity/v3/endpoints/${endpoint.id}`, payload: { endpoint: { region_id: 'Nowhere' } } })).statusCode).toBe(400);
    const moved = await as('admin', { method: 'PATCH', url: `/identity/v3/endpoints/${endpoint.id}`, payload: { endpoint: { region: 'RegionThree' } } });
    expect(moved.json().endpoint).toMatchObject({ region: 'RegionThree', region_id: 'RegionThree' });
    expect((await as('demo', { url: '/identity/v3/regions/RegionThree' })).statusCode).toBe(200);
    await as('admin', { method: 'PATCH', url: `/identity/v3/endpoints/${endpoint.id}`, payload: { endpoint: { region_id: 'RegionTwo' } } });
    expect((await as('demo', { url: '/identity/v3/auth/catalog' })).json().catalog.some((c: { type: string }) => c.type === 'dns')).toBe(false);
    expect((await as('admin', { method: 'PATCH', url: `/identity/v3/services/${service.id}`, payload: { service: { name: 'dns2' } } })).json().service).toMatchObject({ name: 'dns2', type: 'dns' });

    const child = await as('admin', { method: 'PUT', url: '/identity/v3/regions/RegionTwoA', payload: { region: { description: 'a', parent_region_id: 'RegionTwo' } } });
    expect(child.statusCode).toBe(201);
    expect(child.json().region).toMatchObject({ id: 'RegionTwoA', parent_region_id: 'RegionTwo', description: 'a' });
    expect((await as('admin', { method: 'POST', url: '/identity/v3/regions', payload: { region: { id: 'RegionTwoA' } } })).statusCode).toBe(409);
    expect((await as('admin', { method: 'POST', url: '/identity/v3/regions', payload: { region: { parent_region_id: 'Nowhere' } } })).statusCode).toBe(404);
    expect((await as('admin', { method: 'PATCH', url: '/identity/v3/regions/RegionTwo', payload: { region: { parent_region_id: 'RegionTwoA' } } })).statusCode).toBe(400);
    const refused = await as('admin', { method: 'DELETE', url: '/identity/v3/regions/RegionTwo' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 403 });

    expect((await as('admin', { method: 'DELETE', url: `/identity/v3/services/${service.id}` })).statusCode).toBe(204);
    expect((await as('demo', { url: `/identity/v3/endpoints/${endpoint.id}` })).statusCode).toBe(404);
    expect((await as('admin', { method: 'DELETE', url: '/identity/v3/regions/RegionTwo' })).statusCode).toBe(204);
    expect((await as('demo', { url: '/identity/v3/regions/RegionTwoA' })).statusCode).toBe(404);
    expect((await as('admin', { method: 'DELETE', url: `/identity/v3/endpoints/${endpoint.id}` })).statusCode).toBe(404);
  });

  it('catalog writes are refused to a member (403), without a token (401) and with a malformed body (400), with nothing changed', async () => {
    const before = (await as('admin', { url: '/identity/v3/endpoints' })).json().endpoints;
    const computeId = (await as('admin', { url: '/identity/v3/services?type=compute' })).json().services[0].id;
    const doors: Parameters<typeof requestAs>[1][] = [
      { method: 'POST', url: '/identity/v3/regions', payload: { region: { id: 'R9' } } },
      { method: 'PUT', url: '/identity/v3/regions/R9', payload: { region: {} } },
      { method: 'PATCH', url: '/identity/v3/regions/RegionOne', payload: { region: { description: 'x' } } },
      { method: 'DELETE', url: '/identity/v3/regions/RegionOne' },
      { method: 'POST', url: '/identity/v3/services', payload: { service: { type: 'dns' } } },
      { method: 'PATCH', url: `/identity/v3/services/${computeId}`, payload: { service: { enabled: false } } },
      { method: 'DELETE', url: `/identity/v3/services/${computeId}` },
      { method: 'POST', url: '/identity/v3/endpoints', payload: { endpoint: { service_id: computeId, interface: 'public', url: 'http://evil' } } },
      { method: 'PATCH', url: `/identity/v3/endpoints/${before[0].id}`, payload: { endpoint: { url: 'http://evil' } } },
      { method: 'DELETE', url: `/identity/v3/endpoints/${before[0].id}` },
    ];
    for (const door of doors) {
      expect([door.method, door.url, (await as('demo', door)).statusCode]).toEqual([door.method, door.url, 403]);
      expect([door.method, door.url, (await as('', door)).statusCode]).toEqual([door.method, door.url, 401]);
    }
    const malformed: Parameters<typeof requestAs>[1][] = [
      { method: 'POST', url: '/identity/v3/services', payload: { service: { name: 'no type' } } },
      { method: 'POST', url: '/identity/v3/services', payload: { service: { type: 'dns', enabled: 'yes' } } },
      { method: 'POST', url: '/identity/v3/endpoints', payload: { endpoint: { service_id: computeId, interface: 'sideways', url: 'http://x' } } },
      { method: 'POST', url: '/identity/v3/endpoints', payload: { endpoint: { service_id: computeId, interface: 'public' } } },
      { method: 'POST', url: '/identity/v3/endpoints', payload: { endpoint: { service_id: 'nope', interface: 'public', url: 'http://x' } } },
      { method: 'POST', url: '/identity/v3/regions', payload: { region: { id: 'has space' } } },
      { method: 'PUT', url: '/identity/v3/regions/R9', payload: { region: { id: 'R8' } } },
      { method: 'PATCH', url: `/identity/v3/endpoints/${before[0].id}`, payload: { endpoint: { colour: 'red' } } },
    ];
    for (const m of malformed) expect([JSON.stringify(m.payload), (await as('admin', m)).statusCode]).toEqual([JSON.stringify(m.payload), 400]);
    expect((await as('admin', { url: '/identity/v3/endpoints' })).json().endpoints).toEqual(before);
    expect((await as('admin', { url: '/identity/v3/regions' })).json().regions.map((r: { id: string }) => r.id)).toEqual(['RegionOne']);
  });

  it('project tags: list, replace, add one (201), check (204/404), remove one, remove all', async () => {
    await as('admin', { method: 'POST', url: '/identity/v3/projects', payload: { project: { name: 'team', tags: ['a'] } } });
    expect(calls.find((c) => c.method === 'createProject')?.req).toMatchObject({ tags: ['a'] });
    const tags = '/identity/v3/projects/p1/tags';
    expect((await as('admin', { method: 'PUT', url: tags, payload: { tags: ['x', 'y'] } })).json()).toEqual({ tags: ['x', 'y'] });
    expect((await as('admin', { method: 'PUT', url: `${tags}/z` })).statusCode).toBe(201);
    expect((await as('admin', { url: tags })).json()).toEqual({ tags: ['x', 'y', 'z'] });
    expect((await as('admin', { method: 'HEAD', url: `${tags}/y` })).statusCode).toBe(204);
    expect((await as('admin', { url: `${tags}/nope` })).statusCode).toBe(404);
    expect((await as('admin', { method: 'DELETE', url: `${tags}/x` })).statusCode).toBe(204);
    expect((await as('admin', { url: '/identity/v3/projects?tags=y,z' })).json().projects.map((p: { id: string }) => p.id)).toEqual(['p1']);
    expect((await as('admin', { url: '/identity/v3/projects?not-tags-any=z' })).json().projects).toEqual([]);
    expect((await as('admin', { method: 'DELETE', url: tags })).statusCode).toBe(204);
    expect((await as('admin', { url: tags })).json()).toEqual({ tags: [] });
    expect((await as('demo', { method: 'PUT', url: `${tags}/w` })).statusCode).toBe(403);
  });
});
