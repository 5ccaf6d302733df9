import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { expandRoles } from '@minicloud/platform-auth';
import type { Redis } from '@minicloud/platform-state';
import { hashSecret } from './password-hash';

export interface DomainRecord { id: string; name: string; enabled: boolean }
export interface ProjectRecord { id: string; name: string; domainId: string; parentId: string; description: string; enabled: boolean }
export interface UserRecord { id: string; name: string; domainId: string; defaultProjectId: string; enabled: boolean; email: string; passwordHash: string }
export interface GroupRecord { id: string; name: string; domainId: string }
export interface RoleRecord { id: string; name: string; implies: string[] }
/** A role assignment: an actor (user or group) holds a role on a scope (project or domain). */
export interface AssignmentRecord { roleId: string; userId: string; groupId: string; projectId: string; domainId: string }

type Key = (...parts: (string | number)[]) => string;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/** @throws InvalidArgumentError(field) unless `name` is 1-64 chars of [A-Za-z0-9_.@-] */
export function checkName(field: string, name: string): void {
  if (!name) throw new InvalidArgumentError(field, 'is required');
  if (!NAME_RE.test(name)) throw new InvalidArgumentError(field, 'must be 1-64 characters of letters, digits, _ . @ -, starting with a letter or digit');
}

const flag = (v: string | undefined) => v === '1';

/**
 * Keystone's directory in Redis: one hash per object (`mc:identity:<kind>:<id>`), a set of ids per
 * kind, and name indexes `mc:identity:<kind>-name:<domain>:<name>` claimed with SET NX so two creates
 * of the same name cannot both win. Assignments are members `<scope>|<actor>|<role_id>` of one set.
 */
export class DirectoryStore {
  constructor(private readonly redis: Redis, private readonly key: Key) {}

  // ---- generic helpers

  private async claimName(indexKey: string, id: string, kind: string, name: string): Promise<void> {
    const ok = await this.redis.set(indexKey, id, 'NX');
    if (ok !== 'OK') throw new AlreadyExistsError(kind, name);
  }

  private async hash(kind: string, id: string): Promise<Record<string, string> | undefined> {
    if (!id) return undefined;
    const h = await this.redis.hgetall(this.key(kind, id));
    return h.id ? h : undefined;
  }

  private async all<T>(kind: string, get: (id: string) => Promise<T | undefined>): Promise<T[]> {
    const ids = await this.redis.smembers(this.key(`${kind}s`));
    return (await Promise.all(ids.map(get))).filter((x): x is Awaited<T> => x !== undefined) as T[];
  }

  // ---- domains

  /** @throws AlreadyExistsError when the name is taken */
  async createDomain(name: string, id: string = randomUUID()): Promise<DomainRecord> {
    checkName('name', name);
    await this.claimName(this.key('domain-name', name), id, 'domain', name);
    const d: DomainRecord = { id, name, enabled: true };
    await this.redis.multi().hset(this.key('domain', id), { id, name, enabled: '1' }).sadd(this.key('domains'), id).exec();
    return d;
  }

  async getDomain(id: string): Promise<DomainRecord | undefined> {
    const h = await this.hash('domain', id);
    return h && { id: h.id, name: h.name, enabled: flag(h.enabled) };
  }

  async domainByName(name: string): Promise<DomainRecord | undefined> {
    const id = await this.redis.get(this.key('domain-name', name));
    return id ? this.getDomain(id) : undefined;
  }

  /** @throws NotFoundError('domain', id) */
  async requireDomain(id: string): Promise<DomainRecord> {
    const d = await this.getDomain(id);
    if (!d) throw new NotFoundError('domain', id);
    return d;
  }

  listDomains(): Promise<DomainRecord[]> {
    return this.all('domain', (id) => this.getDomain(id));
  }

  // ---- projects

  /**
   * Creates a project in a domain, optionally under a parent project of the same domain.
   * @throws InvalidArgumentError('name'), NotFoundError('domain'|'project' parent), AlreadyExistsError('project', name)
   */
  async createProject(p: { name: string; domainId: string; parentId?: string; description?: string }): Promise<ProjectRecord> {
    checkName('name', p.name);
    await this.requireDomain(p.domainId);
    if (p.parentId) {
      const parent = await this.getProject(p.parentId);
      if (!parent) throw new NotFoundError('project', p.parentId, 'parent_id');
      if (parent.domainId !== p.domainId) throw new InvalidArgumentError('parent_id', 'parent project is in another domain');
    }
    const id = randomUUID();
    await this.claimName(this.key('project-name', p.domainId, p.name), id, 'project', p.name);
    const rec: ProjectRecord = { id, name: p.name, domainId: p.domainId, parentId: p.parentId ?? '', description: p.description ?? '', enabled: true };
    await this.redis
      .multi()
      .hset(this.key('project', id), { id, name: rec.name, domain_id: rec.domainId, parent_id: rec.parentId, description: rec.description, enabled: '1' })
      .sadd(this.key('projects'), id)
      .exec();
    return rec;
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const h = await this.hash('project', id);
    return h && { id: h.id, name: h.name, domainId: h.domain_id, parentId: h.parent_id ?? '', description: h.description ?? '', enabled: flag(h.enabled) };
  }

  /** @throws NotFoundError('project', id) */
  async requireProject(id: string): Promise<ProjectRecord> {
    const p = await this.getProject(id);
    if (!p) throw new NotFoundError('project', id);
    return p;
  }

  async projectByName(domainId: string, name: string): Promise<ProjectRecord | undefined> {
    const id = await this.redis.get(this.key('project-name', domainId, name));
    return id ? this.getProject(id) : undefined;
  }

  listProjects(): Promise<ProjectRecord[]> {
    return this.all('project', (id) => this.getProject(id));
  }

  /**
   * Deletes a project and its role assignments (Keystone refuses to delete a parent: 403).
   * @throws NotFoundError('project'), FailedPreconditionError when it has child projects
   */
  async deleteProject(id: string): Promise<ProjectRecord> {
    const p = await this.requireProject(id);
    const children = (await this.listProjects()).filter((c) => c.parentId === id);
    if (children.length) throw new FailedPreconditionError(`project ${id} has ${children.length} child project(s); delete them first`, 'has_children');
    const doomed = (await this.redis.smembers(this.key('assignments'))).filter((m) => m.startsWith(`p:${id}|`));
    const tx = this.redis.multi().del(this.key('project', id)).srem(this.key('projects'), id).del(this.key('project-name', p.domainId, p.name));
    if (doomed.length) tx.srem(this.key('assignments'), ...doomed);
    await tx.exec();
    return p;
  }

  // ---- users

  /**
   * Creates a user with an argon2id-hashed password.
   * @throws InvalidArgumentError('name'|'password'), NotFoundError('domain'|'project'), AlreadyExistsError('user', name)
   */
  async createUser(u: { name: string; password: string; domainId: string; defaultProjectId?: string; email?: string }): Promise<UserRecord> {
    checkName('name', u.name);
    if (!u.password) throw new InvalidArgumentError('password', 'is required');
    await this.requireDomain(u.domainId);
    if (u.defaultProjectId && !(await this.getProject(u.defaultProjectId))) throw new NotFoundError('project', u.defaultProjectId, 'default_project_id');
    const id = randomUUID();
    const passwordHash = await hashSecret(u.password);
    await this.claimName(this.key('user-name', u.domainId, u.name), id, 'user', u.name);
    const rec: UserRecord = { id, name: u.name, domainId: u.domainId, defaultProjectId: u.defaultProjectId ?? '', enabled: true, email: u.email ?? '', passwordHash };
    await this.redis.multi().hset(this.key('user', id), this.userHash(rec)).sadd(this.key('users'), id).exec();
    return rec;
  }

  private userHash(u: UserRecord): Record<string, string> {
    return { id: u.id, name: u.name, domain_id: u.domainId, default_project_id: u.defaultProjectId, enabled: u.enabled ? '1' : '0', email: u.email, password_hash: u.passwordHash };
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const h = await this.hash('user', id);
    return (
      h && { id: h.id, name: h.name, domainId: h.domain_id, defaultProjectId: h.default_project_id ?? '', enabled: flag(h.enabled), email: h.email ?? '', passwordHash: h.password_hash ?? '' }
    );
  }

  /** @throws NotFoundError('user', id) */
  async requireUser(id: string): Promise<UserRecord> {
    const u = await this.getUser(id);
    if (!u) throw new NotFoundError('user', id);
    return u;
  }

  async userByName(domainId: string, name: string): Promise<UserRecord | undefined> {
    const id = await this.redis.get(this.key('user-name', domainId, name));
    return id ? this.getUser(id) : undefined;
  }

  listUsers(): Promise<UserRecord[]> {
    return this.all('user', (id) => this.getUser(id));
  }

  /**
   * Changes enabled, password and/or email.
   * @throws NotFoundError('user'), InvalidArgumentError('password') for an empty password
   */
  async updateUser(id: string, change: { enabled?: boolean; password?: string; email?: string }): Promise<UserRecord> {
    const u = await this.requireUser(id);
    if (change.password !== undefined && !change.password) throw new InvalidArgumentError('password', 'must not be empty');
    const next: UserRecord = {
      ...u,
      enabled: change.enabled ?? u.enabled,
      email: change.email ?? u.email,
      passwordHash: change.password !== undefined ? await hashSecret(change.password) : u.passwordHash,
    };
    await this.redis.hset(this.key('user', id), this.userHash(next));
    return next;
  }

  /** Deletes a user, their group memberships and role assignments. @throws NotFoundError('user') */
  async deleteUser(id: string): Promise<UserRecord> {
    const u = await this.requireUser(id);
    const groups = await this.redis.smembers(this.key('user-groups', id));
    const doomed = (await this.redis.smembers(this.key('assignments'))).filter((m) => m.includes(`|u:${id}|`));
    const tx = this.redis.multi().del(this.key('user', id), this.key('user-groups', id)).srem(this.key('users'), id).del(this.key('user-name', u.domainId, u.name));
    for (const g of groups) tx.srem(this.key('group-members', g), id);
    if (doomed.length) tx.srem(this.key('assignments'), ...doomed);
    await tx.exec();
    return u;
  }

  // ---- groups

  /** @throws InvalidArgumentError('name'), NotFoundError('domain'), AlreadyExistsError('group', name) */
  async createGroup(name: string, domainId: string): Promise<GroupRecord> {
    checkName('name', name);
    await this.requireDomain(domainId);
    const id = randomUUID();
    await this.claimName(this.key('group-name', domainId, name), id, 'group', name);
    await this.redis.multi().hset(this.key('group', id), { id, name, domain_id: domainId }).sadd(this.key('groups'), id).exec();
    return { id, name, domainId };
  }

  async getGroup(id: string): Promise<GroupRecord | undefined> {
    const h = await this.hash('group', id);
    return h && { id: h.id, name: h.name, domainId: h.domain_id };
  }

  /** @throws NotFoundError('group'|'user') */
  async addUserToGroup(groupId: string, userId: string): Promise<void> {
    if (!(await this.getGroup(groupId))) throw new NotFoundError('group', groupId);
    await this.requireUser(userId);
    await this.redis.multi().sadd(this.key('group-members', groupId), userId).sadd(this.key('user-groups', userId), groupId).exec();
  }

  userGroups(userId: string): Promise<string[]> {
    return this.redis.smembers(this.key('user-groups', userId));
  }

  // ---- roles

  /**
   * Creates a role; `implies` names existing roles (Keystone implied roles).
   * @throws InvalidArgumentError('name'), NotFoundError('role', implied), AlreadyExistsError('role', name)
   */
  async createRole(name: string, implies: string[] = []): Promise<RoleRecord> {
    checkName('name', name);
    for (const r of implies) if (!(await this.roleByName(r))) throw new NotFoundError('role', r, 'in implies');
    const id = randomUUID();
    await this.claimName(this.key('role-name', name), id, 'role', name);
    await this.redis.multi().hset(this.key('role', id), { id, name, implies: JSON.stringify(implies) }).sadd(this.key('roles'), id).exec();
    return { id, name, implies };
  }

  async getRole(id: string): Promise<RoleRecord | undefined> {
    const h = await this.hash('role', id);
    return h && { id: h.id, name: h.name, implies: JSON.parse(h.implies || '[]') as string[] };
  }

  async roleByName(name: string): Promise<RoleRecord | undefined> {
    const id = await this.redis.get(this.key('role-name', name));
    return id ? this.getRole(id) : undefined;
  }

  listRoles(): Promise<RoleRecord[]> {
    return this.all('role', (id) => this.getRole(id));
  }

  /** Role names expanded with every role they imply (transitively), from the stored implied-role graph. */
  async expand(roleNames: string[]): Promise<string[]> {
    const graph = Object.fromEntries((await this.listRoles()).map((r) => [r.name, r.implies]));
    return expandRoles(roleNames, graph);
  }

  // ---- assignments

  private member(a: AssignmentRecord): string {
    const scope = a.projectId ? `p:${a.projectId}` : `d:${a.domainId}`;
    const actor = a.userId ? `u:${a.userId}` : `g:${a.groupId}`;
    return `${scope}|${actor}|${a.roleId}`;
  }

  private parse(m: string): AssignmentRecord {
    const [scope, actor, roleId] = m.split('|');
    const sid = scope.slice(2);
    const aid = actor.slice(2);
    return {
      roleId,
      projectId: scope.startsWith('p:') ? sid : '',
      domainId: scope.startsWith('d:') ? sid : '',
      userId: actor.startsWith('u:') ? aid : '',
      groupId: actor.startsWith('g:') ? aid : '',
    };
  }

  /**
   * Resolves and checks an assignment: exactly one actor (user_id or group_id) and one scope
   * (project_id or domain_id); the role by id or name.
   * @throws InvalidArgumentError naming the field, NotFoundError for an unknown role/user/group/project/domain
   */
  async resolveAssignment(a: { roleId?: string; roleName?: string; userId?: string; groupId?: string; projectId?: string; domainId?: string }): Promise<AssignmentRecord> {
    const role = a.roleId ? await this.getRole(a.roleId) : a.roleName ? await this.roleByName(a.roleName) : undefined;
    if (!a.roleId && !a.roleName) throw new InvalidArgumentError('assignment.role_id', 'role_id or role_name is required');
    if (!role) throw new NotFoundError('role', a.roleId || a.roleName || '');
    if (!!a.userId === !!a.groupId) throw new InvalidArgumentError('assignment.user_id', 'exactly one of user_id and group_id is required');
    if (!!a.projectId === !!a.domainId) throw new InvalidArgumentError('assignment.project_id', 'exactly one of project_id and domain_id is required');
    if (a.userId) await this.requireUser(a.userId);
    if (a.groupId && !(await this.getGroup(a.groupId))) throw new NotFoundError('group', a.groupId);
    if (a.projectId) await this.requireProject(a.projectId);
    if (a.domainId) await this.requireDomain(a.domainId);
    return { roleId: role.id, userId: a.userId ?? '', groupId: a.groupId ?? '', projectId: a.projectId ?? '', domainId: a.domainId ?? '' };
  }

  async assign(a: AssignmentRecord): Promise<void> {
    await this.redis.sadd(this.key('assignments'), this.member(a));
  }

  /** @returns false when there was no such assignment */
  async unassign(a: AssignmentRecord): Promise<boolean> {
    return (await this.redis.srem(this.key('assignments'), this.member(a))) === 1;
  }

  async listAssignments(filter: { userId?: string; projectId?: string } = {}): Promise<AssignmentRecord[]> {
    const all = (await this.redis.smembers(this.key('assignments'))).map((m) => this.parse(m));
    return all.filter((a) => (!filter.userId || a.userId === filter.userId) && (!filter.projectId || a.projectId === filter.projectId));
  }

  /**
   * The user's effective role names on a project: direct assignments and those of the user's groups,
   * expanded with implied roles (Keystone's effective role assignments).
   */
  async effectiveRoles(userId: string, projectId: string): Promise<string[]> {
    const groups = new Set(await this.userGroups(userId));
    const mine = (await this.listAssignments({ projectId })).filter((a) => a.userId === userId || (a.groupId && groups.has(a.groupId)));
    const names = (await Promise.all(mine.map((a) => this.getRole(a.roleId)))).filter((r): r is RoleRecord => !!r).map((r) => r.name);
    return names.length ? this.expand([...new Set(names)]) : [];
  }

  /** Ids of the projects where the user holds any role (directly or through a group). */
  async projectsOf(userId: string): Promise<string[]> {
    const groups = new Set(await this.userGroups(userId));
    const mine = (await this.listAssignments()).filter((a) => a.projectId && (a.userId === userId || (a.groupId && groups.has(a.groupId))));
    return [...new Set(mine.map((a) => a.projectId))];
  }
}
