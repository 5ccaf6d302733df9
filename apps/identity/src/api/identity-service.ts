import { randomUUID } from 'node:crypto';
import { events, identity } from '@minicloud/proto';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { isAdmin, type AuthContext } from '@minicloud/platform-auth';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import { service, type CallContext, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import type { Counter } from '@minicloud/platform-metrics';
import type { Logger } from '@minicloud/platform-logging';
import type { AppCredentialStore } from '../app-credential-store';
import type { CatalogStore } from '../catalog-store';
import type { AssignmentRecord, DirectoryStore } from '../directory-store';
import type { QuotaStore } from '../quota-store';
import type { RevocationStore } from '../revocation-store';
import type { SigningKeyStore } from '../signing-key-store';
import { AuthFailure, type TokenService } from '../token-service';
import { paginate, toAppCredential, toAssignment, toDomain, toProject, toQuota, toRole, toTokenInfo, toUser } from './mapping';

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
    if (!isAdmin(ctx.auth) && p.id !== auth(ctx).projectId && !(await d.dir.projectsOf(auth(ctx).userId)).includes(p.id)) throw new NotFoundError('project', projectId);
    return p;
  };

  /** Quota target: the caller's project by default; another project only for admin. */
  const quotaProject = async (ctx: CallContext, projectId: string) => {
    const id = projectId || auth(ctx).projectId;
    if (id !== auth(ctx).projectId && !isAdmin(ctx.auth)) throw new PermissionDeniedError(`only an admin may use the quota of project ${id}`);
    await d.dir.requireProject(id);
    return id;
  };

  const assignmentOf = (a: identity.RoleAssignment | undefined) => {
    if (!a) throw new InvalidArgumentError('assignment', 'is required');
    return d.dir.resolveAssignment(a);
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
          });
          audit('success', 'success', r.user.id, r.project.id);
          return { token: r.token, info: toTokenInfo(r.context), catalog: await d.catalog.list() };
        } catch (e) {
          audit('failure', e instanceof AuthFailure ? e.outcome : 'bad_request', e instanceof AuthFailure ? e.userId : '', '');
          throw e;
        }
      },
      async validateToken(req, ctx) {
        return { info: toTokenInfo(req.token ? await d.tokens.validate(req.token) : auth(ctx)) };
      },
      async revokeToken(req, ctx) {
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

      async createDomain(req) {
        return { domain: toDomain(await d.dir.createDomain(req.name)) };
      },
      async listDomains() {
        return { domains: (await d.dir.listDomains()).map(toDomain) };
      },

      async createProject(req) {
        return { project: toProject(await d.dir.createProject({ name: req.name, domainId: req.domainId || 'default', parentId: req.parentId, description: req.description })) };
      },
      async getProject(req, ctx) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        return { project: toProject(await visibleProject(ctx, req.projectId)) };
      },
      async listProjects(req, ctx) {
        let all = await d.dir.listProjects();
        if (!isAdmin(ctx.auth)) {
          const mine = new Set([auth(ctx).projectId, ...(await d.dir.projectsOf(auth(ctx).userId))]);
          all = all.filter((p) => mine.has(p.id));
        }
        if (req.domainId) all = all.filter((p) => p.domainId === req.domainId);
        const page = paginate(all, req.page);
        return { projects: page.items.map(toProject), page: { nextPageToken: page.nextPageToken } };
      },
      async deleteProject(req, ctx) {
        if (!req.projectId) throw new InvalidArgumentError('project_id', 'is required');
        const assigned = await d.dir.listAssignments({ projectId: req.projectId });
        const groups = new Set(assigned.map((a) => a.groupId).filter(Boolean));
        const users = new Set(assigned.map((a) => a.userId).filter(Boolean));
        if (groups.size) for (const u of await d.dir.listUsers()) if ((await d.dir.userGroups(u.id)).some((g) => groups.has(g))) users.add(u.id);
        await d.dir.deleteProject(req.projectId);
        await d.quotas.drop(req.projectId);
        // tokens scoped to the project must not outlive it; a token names its user, not only its
        // project, so every user who held a role there loses the tokens issued so far (Keystone
        // revokes by project; the revocation list here is by token and by user)
        for (const u of users) await revokeUser(ctx, u);
        return {};
      },

      async createUser(req) {
        return {
          user: toUser(await d.dir.createUser({ name: req.name, password: req.password, domainId: req.domainId || 'default', defaultProjectId: req.defaultProjectId, email: req.email })),
        };
      },
      async getUser(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        if (!isAdmin(ctx.auth) && req.userId !== auth(ctx).userId) throw new NotFoundError('user', req.userId);
        return { user: toUser(await d.dir.requireUser(req.userId)) };
      },
      async listUsers(req, ctx) {
        let all = isAdmin(ctx.auth) ? await d.dir.listUsers() : [await d.dir.requireUser(auth(ctx).userId)];
        if (req.domainId) all = all.filter((u) => u.domainId === req.domainId);
        const page = paginate(all, req.page);
        return { users: page.items.map(toUser), page: { nextPageToken: page.nextPageToken } };
      },
      async updateUser(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        const before = await d.dir.requireUser(req.userId);
        const u = await d.dir.updateUser(req.userId, { enabled: req.enabled, password: req.password, email: req.email });
        // Keystone: disabling a user or changing the password invalidates their tokens
        if ((before.enabled && !u.enabled) || req.password !== undefined) await revokeUser(ctx, u.id);
        // a new password ends the application credentials made under the old one
        if (req.password !== undefined) await d.appCreds.deleteAllOf(u.id);
        return { user: toUser(u) };
      },
      async deleteUser(req, ctx) {
        if (!req.userId) throw new InvalidArgumentError('user_id', 'is required');
        await d.dir.deleteUser(req.userId);
        await d.appCreds.deleteAllOf(req.userId);
        await revokeUser(ctx, req.userId);
        return {};
      },

      async createGroup(req) {
        return { groupId: (await d.dir.createGroup(req.name, req.domainId || 'default')).id };
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
      async assignRole(req) {
        await d.dir.assign(await assignmentOf(req.assignment));
        return {};
      },
      async unassignRole(req, ctx) {
        const a = await assignmentOf(req.assignment);
        if (!(await d.dir.unassign(a))) throw new NotFoundError('role_assignment', `${a.roleId} of ${a.userId || a.groupId} on ${a.projectId || a.domainId}`);
        // tokens carry roles: void the user's (or every group member's) tokens issued so far
        const users = a.userId ? [a.userId] : (await d.dir.listUsers()).map((u) => u.id);
        for (const u of users) if (a.userId || (await d.dir.userGroups(u)).includes(a.groupId)) await revokeUser(ctx, u);
        return {};
      },
      async listRoleAssignments(req, ctx) {
        const userId = isAdmin(ctx.auth) ? req.userId : auth(ctx).userId;
        if (!isAdmin(ctx.auth) && req.userId && req.userId !== userId) throw new NotFoundError('user', req.userId);
        return { assignments: await withRoleNames(await d.dir.listAssignments({ userId, projectId: req.projectId })) };
      },

      async createApplicationCredential(req, ctx) {
        const a = auth(ctx);
        if (a.instanceId) throw new PermissionDeniedError('an instance credential cannot create application credentials');
        // Keystone's default (restricted) application credential: it cannot mint more of itself
        if (a.applicationCredentialId) throw new PermissionDeniedError('an application credential cannot create application credentials');
        const wanted = req.roles.length ? await d.dir.expand(req.roles) : a.roles;
        const missing = wanted.filter((r) => !a.roles.includes(r));
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
        return { quota: toQuota(await d.quotas.setLimits(req.projectId, req.limits)) };
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
