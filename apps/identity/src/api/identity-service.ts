import { randomUUID } from 'node:crypto';
import { events, identity } from '@minicloud/proto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import { service, type CallContext, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import type { Counter } from '@minicloud/platform-metrics';
import type { Logger } from '@minicloud/platform-logging';
import type { AppCredentialStore } from '../app-credential-store';
import type { CatalogStore } from '../catalog-store';
import { parseExtra, type AssignmentRecord, type DirectoryStore } from '../directory-store';
import type { QuotaStore } from '../quota-store';
import type { ServiceCatalogStore } from '../service-catalog-store';
import type { RevocationStore } from '../revocation-store';
import type { SigningKeyStore } from '../signing-key-store';
import { AuthFailure, type TokenService } from '../token-service';
import { paginate, toAppCredential, toAssignment, toDomain, toGroup, toProject, toQuota, toRole, toTokenInfo, toUser } from './mapping';

/**
 * Who may call what (Keystone's default policies reduced to roles). Reads of users/projects are
 * `authenticated` and scoped in the handler: an admin sees all, others themselves / their projects.
 */
export interface IdentityServiceDeps {
  dir: DirectoryStore;
  appCreds: AppCredentialStore;
  keys: SigningKeyStore;
  revocations: RevocationStore;
  tokens: TokenService;
  catalog: CatalogStore;
  /** Keystone's catalog of regions, services and endpoints (what OpenStack clients see). */
  serviceCatalog: ServiceCatalogStore;
  quotas: QuotaStore;
  bus: Bus;
  logger: Logger;
  /** minicloud_identity_authentications_total{outcome} */
  authentications: Counter<'outcome'>;
  nowMs: () => number;
}

const auth = (ctx: CallContext): AuthContext => ctx.auth as AuthContext;

/** The IdentityService handlers (Keystone v3 semantics over the stores). */
export function identityService(d: IdentityServiceDeps): ServiceRegistration {
  const meta = (ctx: CallContext) => ({ eventId: randomUUID(), occurredAt: new Date(d.nowMs()), requestId: ctx.requestId, source: 'identity' });

  const publish = (ctx: CallContext, subject: string, type: Parameters<Bus['publishEvent']>[1], ev: object) =>
    d.bus.publishEvent(subject, type, { meta: meta(ctx), ...ev }, { requestId: ctx.requestId }).catch((e) => ctx.logger.warn({ err: e, subject }, 'event publish failed'));

  const revokeUser = async (ctx: CallContext, userId: string) => {
    const now = d.nowMs();
    await d.revocations.revokeUserBefore(userId, now);
    await publish(ctx, Subjects.tokenRevoked, events.TokenRevoked, { userId, revokedBefore: new Date(now) });
  };

  /** A project the caller may see: any for admin, else one where they hold a role. */
  const visibleProject = async (ctx: CallContext, projectId: string) => {
    const p = await d.dir.getProject(projectId);
    if (!p) throw new NotFoundError('project', projectId);
    if (!isCloudAdmin(ctx.auth) && p.id !== auth(ctx).projectId && !(await d.dir.projectsOf(auth(ctx).userId)).includes(p.id)) throw new NotFoundError('project', projectId);
    return p;
  };

  /** Quota target: the caller's project by default; another project only for admin. */
  const quotaProject = async (ctx: CallContext, projectId: string) => {
    const id = projectId || auth(ctx).projectId;
    if (id !== auth(ctx).projectId && !isCloudAdmin(ctx.auth)) throw new PermissionDeniedError(`only an admin may use the quota of project ${id}`);
    await d.dir.requireProject(id);
    return id;
  };

  /**
   * The token another caller asks about: a bad one is NOT_FOUND (Keystone's 404 TokenNotFound), since
   * UNAUTHENTICATED would say the caller's own token was refused.
   */
  const subject = (token: string) =>
    d.tokens.validate(token).catch((e: unknown) => {
      throw e instanceof UnauthenticatedError ? new NotFoundError('token', 'subject', e.message) : e;
    });

  /** What a token carries, with the role ids and domain names the directory has for it now. */
  const describeToken = async (c: AuthContext) => {
    const [roles, user] = await Promise.all([d.dir.listRoles(), c.instanceId ? undefined : d.dir.getUser(c.userId)]);
    const ids = new Map(roles.map((r) => [r.name, r.id]));
    const userDomainId = user?.domainId ?? c.domainId;
    const [domain, userDomain] = await Promise.all([d.dir.getDomain(c.domainId), d.dir.getDomain(userDomainId)]);
    return {
      ...toTokenInfo(c),
      roleRefs: c.roles.map((name) => ({ id: ids.get(name) ?? '', name, implies: [] })),
      domainName: domain?.name ?? '',
      userDomainId,
      userDomainName: userDomain?.name ?? '',
    };
  };

  const assignmentOf = (a: identity.RoleAssignment | undefined) => {
    if (!a) throw new InvalidArgumentError('assignment', 'is required');
    return d.dir.resolveAssignment(a);
  };

  /** Users holding any role on the project (directly or through a group). */
  const usersOnProject = async (projectId: string) => {
    const assigned = await d.dir.listAssignments({ projectId });
    const users = new Set(assigned.map((a) => a.userId).filter(Boolean));
    for (const g of new Set(assigned.map((a) => a.groupId).filter(Boolean))) for (const u of await d.dir.groupMembers(g)) users.add(u);
    return users;
  };

  /** Deletes a project, its quota, and (tokens name their user) revokes every member's tokens issued so far. */
  const deleteProject = async (ctx: CallContext, projectId: string) => {
    const users = await usersOnProject(projectId);
    await d.dir.deleteProject(projectId);
    await d.quotas.drop(projectId);
    for (const u of users) await revokeUser(ctx, u);
  };

  const deleteUser = async (ctx: CallContext, userId: string) => {
    await d.dir.deleteUser(userId);
    await d.appCreds.deleteAllOf(userId);
    await revokeUser(ctx, userId);
  };

  /**
   * Keystone's effective role assignments: group assignments become one per member, and each role
   * brings the roles it implies; an implied assignment carries the role's id.
   */
  const effectiveAssignments = async (list: AssignmentRecord[]): Promise<AssignmentRecord[]> => {
    const roles = await d.dir.listRoles();
    const byName = new Map(roles.map((r) => [r.name, r.id]));
    const nameOf = new Map(roles.map((r) => [r.id, r.name]));
    const out = new Map<string, AssignmentRecord>();
    for (const a of list) {
      const users = a.userId ? [a.userId] : await d.dir.groupMembers(a.groupId);
      const implied = await d.dir.expand([nameOf.get(a.roleId) ?? '']);
      for (const userId of users) {
        for (const name of implied) {
          const roleId = byName.get(name);
          if (!roleId) continue;
          const e = { ...a, userId, groupId: '', roleId };
          out.set(`${e.system ?? ''}|${e.projectId}|${e.domainId}|${e.userId}|${e.roleId}`, e);
        }
      }
    }
    return [...out.values()];
  };

  const withRoleNames = async (list: AssignmentRecord[]) => {
    const names = new Map((await d.dir.listRoles()).map((r) => [r.id, r.name]));
    return list.map((a) => toAssignment(a, names.get(a.roleId) ?? ''));
  };

  return service({
    definition: identity.IdentityServiceService,
    handlers: withInputLimits(identity.IdentityServiceService, {
      async authenticate(req, ctx) {
        const audit = (outcome: string, reason: string, userId: string, projectId: string) => {
          d.authentications.inc({ outcome: reason });
          void publish(ctx, Subjects.auditRecorded, events.AuditRecorded, { kind: 'authenticate', userId, projectId, method: 'authenticate', outcome, reason });
        };
        try {
          const r = await d.tokens.authenticate({
            password: req.password
              ? { userName: req.password.userName, password: req.password.password, domainName: req.password.domainName, userId: req.password.userId, domainId: req.password.domainId }
              : undefined,
            applicationCredential: req.applicationCredential,
            token: req.token,
            projectName: req.projectName,
            projectId: req.projectId,
            projectDomainName: req.projectDomainName,
            projectDomainId: req.projectDomainId,
            unscoped: req.unscoped,
            systemScope: req.systemScope,
          });
          audit('success', 'success', r.user.id, r.project?.id ?? '');
          return { token: r.token, info: await describeToken(r.context), catalog: await d.catalog.list() };
        } catch (e) {
          audit('failure', e instanceof AuthFailure ? e.outcome : 'bad_request', e instanceof AuthFailure ? e.userId : '', '');
          throw e;
        }
      },
      async validateToken(req, ctx) {
        return { info: await describeToken(req.token ? await subject(req.token) : auth(ctx)) };
      },
      async revokeToken(req, ctx) {
        if (req.token) await subject(req.token);
        const t = await d.tokens.revoke(auth(ctx), req.token);
        await publish(ctx, Subjects.tokenRevoked, events.TokenRevoked, { tokenId: t.tokenId, userId: t.userId, expiresAt: new Date(t.expiresAtMs) });
        return {};
      },
      async getPublicKeys() {
        const keys = await d.keys.verifyingKeys();
        return { keys: keys.map((k) => ({ kid: k.kid, jwkJson: JSON.stringify(k.publicJwk), notAfter: k.notAfterMs ? new Date(k.notAfterMs) : undefined })) };
      },
      async rotateSigningKey(_req, ctx) {
        const k = await d.keys.rotate();
        await publish(ctx, Subjects.signingKeyRotated, events.SigningKeyRotated, { kid: k.kid });
        return { kid: k.kid };
      },
      async getCatalog() {
        return { catalog: await d.catalog.list() };
      },
      async registerEndpoint(req) {
        if (!req.endpoint) throw new InvalidArgumentError('endpoint', 'is required');
        await d.catalog.register(req.endpoint, { addReplica: req.addReplica });
        return {};
      },

      async listServiceCatalog() {
        return await d.serviceCatalog.get();
      },
      async seedServiceCatalog(req) {
        return { seeded: await d.serviceCatalog.seed({ regions: req.regions, services: req.services, endpoints: req.endpoints }) };
      },
      async createRegion(req) {
        return { region: await d.serviceCatalog.createRegion({ id: req.id, description: req.description, parentRegionId: req.parentRegionId }) };
      },
      async updateRegion(req) {
        return { region: await d.serviceCatalog.updateRegion(req.regionId, { description: req.description, parentRegionId: req.parentRegionId }) };
      },
      async deleteRegion(req) {
        await d.serviceCatalog.deleteRegion(req.regionId);
        return {};
      },
      async createCatalogService(req) {
        return { service: await d.serviceCatalog.createService({ type: req.type, name: req.name, description: req.description, enabled: req.enabled }) };
      },
      async updateCatalogService(req) {
        return { service: await d.serviceCatalog.updateService(req.serviceId, { type: req.type, name: req.name, description: req.description, enabled: req.enabled }) };
      },
      async deleteCatalogService(req) {
        await d.serviceCatalog.deleteService(req.serviceId);
        return {};
      },
      async createCatalogEndpoint(req) {
        return { endpoint: await d.serviceCatalog.createEndpoint({ serviceId: req.serviceId, regionId: req.regionId, interface: req.interface, url: req.url, enabled: req.enabled, createRegion: req.createRegion }) };
      },
      async updateCatalogEndpoint(req) {
        return { endpoint: await d.serviceCatalog.updateEndpoint(req.endpointId, { serviceId: req.serviceId, regionId: req.regionId, interface: req.interface, url: req.url, enabled: req.enabled }, req.createRegion) };
      },
      async deleteCatalogEndpoint(req) {
        await d.serviceCatalog.deleteEndpoint(req.endpointId);
        return {};
      },

      async createDomain(req) {
        return { domain: toDomain(await d.dir.createDomain(req.name, undefined, { description: req.description, enabled: req.enabled })) };
      },
      async listDomains() {
        return { domains: (await d.dir.listDomains()).map(toDomain) };
      },
      async updateDomain(req, ctx) {
        if (!req.domainId) throw new InvalidArgumentError('domain_id', 'is required');
        const before = await d.dir.requireDomain(req.domainId);
        const after = await d.dir.updateDomain(req.domainId, { name: req.name, description: req.description, enabled: req.enabled });
        // Keystone: a disabled domain's users can no longer use their tokens
        if (before.enabled && !after.enabled) for (const u of await d.dir.listUsers()) if (u.domainId === after.id) await revokeUser(ctx, u.id);
        return { domain: toDomain(after) };
      },
      async deleteDomain(req, ctx) {
        if (!req.domainId) throw new InvalidArgumentError('domain_id', 'is required');
        const dom = await d.dir.requireDomain(req.domainId);
        if (dom.enabled) throw new FailedPreconditionError(`domain ${dom.id} is enabled; disable it before deleting it`, 'domain_enabled');
        // Keystone deletes what the domain holds with it: projects (children first), groups, users.
        // The domain stays (disabled) until the last step, so a failure part-way is completed by a retry.
        const projects = (await d.dir.listProjects()).filter((p) => p.domainId === dom.id);
        const depth = (id: string): number => {
          const p = projects.find((x) => x.id === id);
          return p?.parentId ? 1 + depth(p.parentId) : 0;
        };
        for (const p of projects.sort((a, b) => depth(b.id) - depth(a.id))) await deleteProject(ctx, p.id);
        for (const g of await d.dir.listGroups()) if (g.domainId === dom.id) await d.dir.deleteGroup(g.id);
        for (const u of await d.dir.listUsers()) if (u.domainId === dom.id) await deleteUser(ctx, u.id);
        await d.dir.deleteDomain(dom.id);
        return {};
      },

      async createProject(req) {
        return {
          project: toProject(await d.dir.createProject({ name: req.name, domainId: req.domainId || 'default', parentId: req.parentId, description: req.description, enabled: req.enabled, tags: req.tags })),
        };
      },
      async getProject(req, ctx) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        return { project: toProject(await visibleProject(ctx, req.projectId)) };
      },
      async listProjects(req, ctx) {
        let all = await d.dir.listProjects();
        if (!isCloudAdmin(ctx.auth)) {
          const mine = new Set([auth(ctx).projectId, ...(await d.dir.projectsOf(auth(ctx).userId))]);
          all = all.filter((p) => mine.has(p.id));
        }
        if (req.domainId) all = all.filter((p) => p.domainId === req.domainId);
        const page = paginate(all, req.page);
        return { projects: page.items.map(toProject), page: { nextPageToken: page.nextPageToken } };
      },
      async updateProject(req, ctx) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        const before = await d.dir.requireProject(req.projectId);
        const after = await d.dir.updateProject(req.projectId, { name: req.name, description: req.description, enabled: req.enabled, tags: req.updateTags ? req.tags : undefined });
        // tokens scoped to a disabled project stop working (by user: see deleteProject)
        if (before.enabled && !after.enabled) for (const u of await usersOnProject(after.id)) await revokeUser(ctx, u);
        return { project: toProject(after) };
      },
      async deleteProject(req, ctx) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        // tokens scoped to the project must not outlive it; a token names its user, not only its
        // project, so every user who held a role there loses the tokens issued so far (Keystone
        // revokes by project; the revocation list here is by token and by user)
        await deleteProject(ctx, req.projectId);
        return {};
      },

      async createUser(req) {
        return {
          user: toUser(
            await d.dir.createUser({ name: req.name, password: req.password, domainId: req.domainId || 'default', defaultProjectId: req.defaultProjectId, email: req.email, enabled: req.enabled, description: req.description, extra: parseExtra(req.extraJson) }),
          ),
        };
      },
      async getUser(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        if (!isCloudAdmin(ctx.auth) && req.userId !== auth(ctx).userId) throw new NotFoundError('user', req.userId);
        return { user: toUser(await d.dir.requireUser(req.userId)) };
      },
      async listUsers(req, ctx) {
        let all = isCloudAdmin(ctx.auth) ? await d.dir.listUsers() : [await d.dir.requireUser(auth(ctx).userId)];
        if (req.domainId) all = all.filter((u) => u.domainId === req.domainId);
        const page = paginate(all, req.page);
        return { users: page.items.map(toUser), page: { nextPageToken: page.nextPageToken } };
      },
      async updateUser(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        const before = await d.dir.requireUser(req.userId);
        const u = await d.dir.updateUser(req.userId, { enabled: req.enabled, password: req.password, email: req.email, name: req.name, defaultProjectId: req.defaultProjectId, description: req.description, extra: req.extraJson !== undefined ? parseExtra(req.extraJson) : undefined });
        // Keystone: disabling a user or changing the password invalidates their tokens
        if ((before.enabled && !u.enabled) || req.password !== undefined) await revokeUser(ctx, u.id);
        // a new password ends the application credentials made under the old one
        if (req.password !== undefined) await d.appCreds.deleteAllOf(u.id);
        return { user: toUser(u) };
      },
      async deleteUser(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        await deleteUser(ctx, req.userId);
        return {};
      },
      async changePassword(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        if (!req.password) throw new InvalidArgumentError('password', 'is required');
        // no token needed (Keystone's change_password is unenforced): the original password is the proof
        const u = await d.tokens.checkPassword(req.userId, req.originalPassword);
        await d.dir.updateUser(u.id, { password: req.password });
        await revokeUser(ctx, u.id);
        await d.appCreds.deleteAllOf(u.id);
        return {};
      },

      async createGroup(req) {
        const g = await d.dir.createGroup(req.name, req.domainId || 'default', req.description);
        return { groupId: g.id, group: toGroup(g) };
      },
      async getGroup(req) {
        if (!req.groupId) throw new InvalidArgumentError('group_id', 'is required');
        return { group: toGroup(await d.dir.requireGroup(req.groupId)) };
      },
      async listGroups(req, ctx) {
        // a user's own groups are theirs to list (Keystone's identity:list_groups_for_user allows the owner)
        if (!isCloudAdmin(ctx.auth) && req.userId !== auth(ctx).userId) throw new PermissionDeniedError('only an admin may list groups other than your own');
        let all = await d.dir.listGroups();
        if (req.userId) {
          await d.dir.requireUser(req.userId);
          const mine = new Set(await d.dir.userGroups(req.userId));
          all = all.filter((g) => mine.has(g.id));
        }
        return { groups: all.filter((g) => (!req.domainId || g.domainId === req.domainId) && (!req.name || g.name === req.name)).map(toGroup) };
      },
      async updateGroup(req) {
        if (!req.groupId) throw new InvalidArgumentError('group_id', 'is required');
        return { group: toGroup(await d.dir.updateGroup(req.groupId, { name: req.name, description: req.description })) };
      },
      async deleteGroup(req, ctx) {
        if (!req.groupId) throw new InvalidArgumentError('group_id', 'is required');
        const hadRoles = (await d.dir.listAssignments({ groupId: req.groupId })).length > 0;
        const members = await d.dir.deleteGroup(req.groupId);
        // the members' tokens carry roles they held through the group
        if (hadRoles) for (const u of members) await revokeUser(ctx, u);
        return {};
      },
      async removeUserFromGroup(req, ctx) {
        if (!req.groupId) throw new InvalidArgumentError('group_id', 'is required');
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        if (!(await d.dir.removeUserFromGroup(req.groupId, req.userId))) throw new NotFoundError('group_membership', `${req.userId} in ${req.groupId}`);
        if ((await d.dir.listAssignments({ groupId: req.groupId })).length) await revokeUser(ctx, req.userId);
        return {};
      },
      async listGroupUsers(req) {
        if (!req.groupId) throw new InvalidArgumentError('group_id', 'is required');
        await d.dir.requireGroup(req.groupId);
        const users = await Promise.all((await d.dir.groupMembers(req.groupId)).map((u) => d.dir.getUser(u)));
        return { users: users.filter((u): u is NonNullable<typeof u> => !!u).map(toUser) };
      },
      async addUserToGroup(req) {
        if (!req.groupId) throw new InvalidArgumentError('group_id', 'is required');
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        await d.dir.addUserToGroup(req.groupId, req.userId);
        return {};
      },

      async createRole(req) {
        return { role: toRole(await d.dir.createRole(req.name, req.implies)) };
      },
      async listRoles() {
        return { roles: (await d.dir.listRoles()).map(toRole) };
      },
      async updateRole(req) {
        if (!req.roleId) throw new InvalidArgumentError('role_id', 'is required');
        const renamed = await d.dir.updateRole(req.roleId, { name: req.name });
        return { role: toRole(req.updateImplies ? await d.dir.setImplies(renamed.id, req.implies) : renamed) };
      },
      async deleteRole(req, ctx) {
        if (!req.roleId) throw new InvalidArgumentError('role_id', 'is required');
        const removed = await d.dir.deleteRole(req.roleId);
        const users = new Set<string>();
        for (const a of removed) for (const u of a.userId ? [a.userId] : await d.dir.groupMembers(a.groupId)) users.add(u);
        for (const u of users) await revokeUser(ctx, u);
        return {};
      },
      async assignRole(req) {
        await d.dir.assign(await assignmentOf(req.assignment));
        return {};
      },
      async unassignRole(req, ctx) {
        const a = await assignmentOf(req.assignment);
        if (!(await d.dir.unassign(a))) throw new NotFoundError('role_assignment', `${a.roleId} of ${a.userId || a.groupId} on ${a.system ? 'the system' : a.projectId || a.domainId}`);
        // tokens carry roles: void the user's (or every group member's) tokens issued so far
        for (const u of a.userId ? [a.userId] : await d.dir.groupMembers(a.groupId)) await revokeUser(ctx, u);
        return {};
      },
      async listRoleAssignments(req, ctx) {
        // a non-admin sees only their own (Keystone's identity:list_role_assignments is admin; the
        // owner may list their own, as /v3/auth/projects needs)
        const admin = isCloudAdmin(ctx.auth);
        if (!admin && req.userId && req.userId !== auth(ctx).userId) throw new NotFoundError('user', req.userId);
        if (!admin && req.groupId) throw new PermissionDeniedError("only an admin may list a group's role assignments");
        const userId = admin ? req.userId : auth(ctx).userId;
        if (req.system && req.system !== 'all') throw new InvalidArgumentError('system', `must be "all" (the only system scope), got "${req.system}"`);
        const scope = { projectId: req.projectId, domainId: req.domainId, roleId: req.roleId, system: req.system };
        if (!req.effective) {
          return { assignments: await withRoleNames(await d.dir.listAssignments({ userId, groupId: req.groupId, ...scope })) };
        }
        // effective: every assignment on the scope, expanded, then filtered to the actor and role
        const expanded = await effectiveAssignments(await d.dir.listAssignments({ projectId: req.projectId, domainId: req.domainId, system: req.system }));
        const members = req.groupId ? new Set(await d.dir.groupMembers(req.groupId)) : undefined;
        const list = expanded.filter((a) => (!userId || a.userId === userId) && (!members || members.has(a.userId)) && (!req.roleId || a.roleId === req.roleId));
        return { assignments: await withRoleNames(list) };
      },

      async createApplicationCredential(req, ctx) {
        const a = auth(ctx);
        if (a.instanceId) throw new PermissionDeniedError('an instance credential cannot create application credentials');
        // Keystone's default (restricted) application credential: it cannot mint more of itself
        if (a.applicationCredentialId) throw new PermissionDeniedError('an application credential cannot create application credentials');
        // Keystone checks the roles the user holds on the project now, not those the token carries
        // (a role granted after the token was issued counts, one removed since does not)
        const held = await d.dir.effectiveRoles(a.userId, a.projectId);
        const wanted = req.roles.length ? await d.dir.expand(req.roles) : held;
        const missing = wanted.filter((r) => !held.includes(r));
        if (missing.length) throw new InvalidArgumentError('roles', `not held by the caller on this project: ${missing.join(', ')}`);
        const { credential, secret } = await d.appCreds.create({
          name: req.name,
          userId: a.userId,
          projectId: a.projectId,
          roles: wanted,
          expiresAtMs: req.expiresAt ? req.expiresAt.getTime() : 0,
        });
        return { credential: toAppCredential(credential), secret };
      },
      async listApplicationCredentials(_req, ctx) {
        return { credentials: (await d.appCreds.listForUser(auth(ctx).userId)).map(toAppCredential) };
      },
      async deleteApplicationCredential(req, ctx) {
        if (!req.id) throw new InvalidArgumentError('id', 'is required');
        await d.appCreds.delete(auth(ctx).userId, req.id);
        return {};
      },

      async getQuota(req, ctx) {
        return { quota: toQuota(await d.quotas.get(await quotaProject(ctx, req.projectId))) };
      },
      async setQuota(req) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        await d.dir.requireProject(req.projectId);
        return { quota: toQuota(await d.quotas.setLimits(req.projectId, req.limits, req.reset)) };
      },
      async reserveQuota(req, ctx) {
        const projectId = await quotaProject(ctx, req.projectId);
        return { reservationId: await d.quotas.reserve(projectId, req.deltas, req.expireSeconds) };
      },
      async commitQuotaReservation(req, ctx) {
        await quotaProject(ctx, await reservationOf(req.reservationId));
        await d.quotas.commit(req.reservationId);
        return {};
      },
      async rollbackQuotaReservation(req, ctx) {
        await quotaProject(ctx, await reservationOf(req.reservationId));
        await d.quotas.rollback(req.reservationId);
        return {};
      },
      async releaseQuota(req, ctx) {
        await d.quotas.release(await quotaProject(ctx, req.projectId), req.deltas);
        return {};
      },

      async issueInstanceCredential(req) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        const { token, document } = await d.tokens.issueInstanceCredential(req.instanceId, req.projectId, req.ttlSeconds);
        return { token, document: { ...document, issuedAt: new Date(document.issuedAtMs) } };
      },

      async listRevocations() {
        const r = await d.revocations.listInForce();
        return {
          tokens: r.tokens.map((t) => ({ tokenId: t.tokenId, expiresAt: new Date(t.expiresAtMs) })),
          users: r.users.map((u) => ({ userId: u.userId, revokedBefore: new Date(u.beforeMs) })),
        };
      },
    }),
  });

  async function reservationOf(id: string): Promise<string> {
    if (!id) throw new InvalidArgumentError('reservation_id', 'is required');
    return d.quotas.reservationProject(id);
  }
}
