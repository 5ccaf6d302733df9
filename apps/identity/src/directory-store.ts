import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { expandRoles } from '@minicloud/platform-auth';
import type { Redis } from '@minicloud/platform-state';
import { hashSecret } from './password-hash';

export interface DomainRecord { id: string; name: string; enabled: boolean; description: string }
export interface ProjectRecord { id: string; name: string; domainId: string; parentId: string; description: string; enabled: boolean; tags: string[] }
/**
 * A user. `hostIds`: the hypervisor hosts a compute agent's account may act for, set only by the
 * seed from SERVICE_ACCOUNTS (no API writes it; `extra` is not used because admins can write it).
 */
export interface UserRecord { id: string; name: string; domainId: string; defaultProjectId: string; enabled: boolean; email: string; passwordHash: string; description: string; extra: Record<string, unknown>; hostIds: string[] }
export interface GroupRecord { id: string; name: string; domainId: string; description: string }
export interface RoleRecord { id: string; name: string; implies: string[] }
/**
 * A role assignment: an actor (user or group) holds a role on a scope: a project, a domain, or
 * Keystone's system scope (`system: 'all'`, the whole deployment; projectId and domainId empty).
 */
export interface AssignmentRecord { roleId: string; userId: string; groupId: string; projectId: string; domainId: string; system?: 'all' }

type Key = (...parts: (string | number)[]) => string;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/**
 * Keystone's name rule (keystone/common/validation/parameter_types.py `name`): any text but control
 * characters, not blank, at most `maxChars` characters (64 for domains, projects and groups, 255 for
 * users and roles, as Keystone's columns are).
 * @throws InvalidArgumentError(field) when empty, blank, too long or holding control characters
 */
export function checkName(field: string, name: string, maxChars = 64): void {
  if (!name) throw new InvalidArgumentError(field, 'is required');
  if (!name.trim()) throw new InvalidArgumentError(field, 'must not be blank');
  if (name.length > maxChars) throw new InvalidArgumentError(field, `is ${name.length} characters long, more than ${maxChars}`);
  if (CONTROL_RE.test(name)) throw new InvalidArgumentError(field, 'must not contain control characters');
}

const flag = (v: string | undefined) => v === '1';

/** Keystone's extra user attributes, bounded so a user record stays small. */
const MAX_EXTRA_CHARS = 4096;

/**
 * Parses a JSON object of extra attributes (empty: none).
 * @throws InvalidArgumentError('extra_json') unless a JSON object of at most 4,096 characters
 */
export function parseExtra(json: string): Record<string, unknown> {
  if (!json) return {};
  if (json.length > MAX_EXTRA_CHARS) throw new InvalidArgumentError('extra_json', `is ${json.length} characters long, more than ${MAX_EXTRA_CHARS}`);
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new InvalidArgumentError('extra_json', 'is not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError('extra_json', 'must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Keystone's project tag rule (keystone/common/validation/parameter_types.py `tags`): at most 80,
 * each 1-255 characters without "/" or ",", no repeats.
 * @throws InvalidArgumentError('tags')
 */
export function checkTags(tags: string[]): void {
  if (tags.length > 80) throw new InvalidArgumentError('tags', `has ${tags.length} tags, more than 80`);
  for (const t of tags) if (!t || t.length > 255 || /[/,]/.test(t)) throw new InvalidArgumentError('tags', `"${t.slice(0, 32)}" must be 1-255 characters without "/" or ","`);
  if (new Set(tags).size !== tags.length) throw new InvalidArgumentError('tags', 'must not repeat a tag');
}

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

  /**
   * The name index of a domain. Domain names match without regard to case, as Keystone's SQL backend
   * does under MySQL's default collation: "Default" (Keystone's name for the default domain) and
   * "default" reach the same domain.
   */
  private domainNameKey(name: string): string {
    return this.key('domain-name', name.toLowerCase());
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

  /**
   * Moves a name index from `oldKey` to `newKey` (a rename): the new name is claimed first, so a
   * taken name changes nothing.
   * @throws AlreadyExistsError(kind, name) when the new name is taken
   */
  private async renameIndex(oldKey: string, newKey: string, id: string, kind: string, name: string): Promise<void> {
    if (oldKey === newKey) return;
    await this.claimName(newKey, id, kind, name);
    await this.redis.del(oldKey);
  }

  /** @throws InvalidArgumentError('name'), AlreadyExistsError when the name is taken */
  async createDomain(name: string, id: string = randomUUID(), opts: { description?: string; enabled?: boolean } = {}): Promise<DomainRecord> {
    checkName('name', name);
    await this.claimName(this.domainNameKey(name), id, 'domain', name);
    const d: DomainRecord = { id, name, enabled: opts.enabled ?? true, description: opts.description ?? '' };
    await this.redis.multi().hset(this.key('domain', id), { id, name, enabled: d.enabled ? '1' : '0', description: d.description }).sadd(this.key('domains'), id).exec();
    return d;
  }

  async getDomain(id: string): Promise<DomainRecord | undefined> {
    const h = await this.hash('domain', id);
    return h && { id: h.id, name: h.name, enabled: flag(h.enabled), description: h.description ?? '' };
  }

  /** @throws NotFoundError('domain'), InvalidArgumentError('name'), AlreadyExistsError('domain', name) */
  async updateDomain(id: string, change: { name?: string; description?: string; enabled?: boolean }): Promise<DomainRecord> {
    const d = await this.requireDomain(id);
    if (change.name !== undefined) {
      checkName('name', change.name);
      await this.renameIndex(this.domainNameKey(d.name), this.domainNameKey(change.name), id, 'domain', change.name);
    }
    const next: DomainRecord = { ...d, name: change.name ?? d.name, description: change.description ?? d.description, enabled: change.enabled ?? d.enabled };
    await this.redis.hset(this.key('domain', id), { name: next.name, description: next.description, enabled: next.enabled ? '1' : '0' });
    return next;
  }

  /**
   * Deletes a disabled domain record, its name and the assignments on it; the caller deletes its
   * projects, users and groups first.
   * @throws NotFoundError('domain'), FailedPreconditionError(domain_enabled) while enabled
   */
  async deleteDomain(id: string): Promise<DomainRecord> {
    const d = await this.requireDomain(id);
    if (d.enabled) throw new FailedPreconditionError(`domain ${id} is enabled; disable it before deleting it`, 'domain_enabled');
    const doomed = (await this.redis.smembers(this.key('assignments'))).filter((m) => m.startsWith(`d:${id}|`));
    const tx = this.redis.multi().del(this.key('domain', id), this.domainNameKey(d.name)).srem(this.key('domains'), id);
    if (doomed.length) tx.srem(this.key('assignments'), ...doomed);
    await tx.exec();
    return d;
  }

  async domainByName(name: string): Promise<DomainRecord | undefined> {
    const id = await this.redis.get(this.domainNameKey(name));
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
  async createProject(p: { name: string; domainId: string; parentId?: string; description?: string; enabled?: boolean; tags?: string[] }): Promise<ProjectRecord> {
    checkName('name', p.name);
    checkTags(p.tags ?? []);
    await this.requireDomain(p.domainId);
    if (p.parentId) {
      const parent = await this.getProject(p.parentId);
      if (!parent) throw new NotFoundError('project', p.parentId, 'parent_id');
      if (parent.domainId !== p.domainId) throw new InvalidArgumentError('parent_id', 'parent project is in another domain');
    }
    const id = randomUUID();
    await this.claimName(this.key('project-name', p.domainId, p.name), id, 'project', p.name);
    const rec: ProjectRecord = { id, name: p.name, domainId: p.domainId, parentId: p.parentId ?? '', description: p.description ?? '', enabled: p.enabled ?? true, tags: p.tags ?? [] };
    await this.redis
      .multi()
      .hset(this.key('project', id), { id, name: rec.name, domain_id: rec.domainId, parent_id: rec.parentId, description: rec.description, enabled: rec.enabled ? '1' : '0', tags: JSON.stringify(rec.tags) })
      .sadd(this.key('projects'), id)
      .exec();
    return rec;
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const h = await this.hash('project', id);
    return h && { id: h.id, name: h.name, domainId: h.domain_id, parentId: h.parent_id ?? '', description: h.description ?? '', enabled: flag(h.enabled), tags: JSON.parse(h.tags || '[]') as string[] };
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

  /** @throws NotFoundError('project'), InvalidArgumentError('name'), AlreadyExistsError('project', name) */
  async updateProject(id: string, change: { name?: string; description?: string; enabled?: boolean; tags?: string[] }): Promise<ProjectRecord> {
    const p = await this.requireProject(id);
    if (change.tags) checkTags(change.tags);
    if (change.name !== undefined) {
      checkName('name', change.name);
      await this.renameIndex(this.key('project-name', p.domainId, p.name), this.key('project-name', p.domainId, change.name), id, 'project', change.name);
    }
    const next: ProjectRecord = { ...p, name: change.name ?? p.name, description: change.description ?? p.description, enabled: change.enabled ?? p.enabled, tags: change.tags ?? p.tags };
    await this.redis.hset(this.key('project', id), { name: next.name, description: next.description, enabled: next.enabled ? '1' : '0', tags: JSON.stringify(next.tags) });
    return next;
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
  async createUser(u: { name: string; password: string; domainId: string; defaultProjectId?: string; email?: string; enabled?: boolean; description?: string; extra?: Record<string, unknown> }): Promise<UserRecord> {
    checkName('name', u.name, 255);
    if (JSON.stringify(u.extra ?? {}).length > MAX_EXTRA_CHARS) throw new InvalidArgumentError('extra_json', `is more than ${MAX_EXTRA_CHARS} characters`);
    if (!u.password) throw new InvalidArgumentError('password', 'is required');
    await this.requireDomain(u.domainId);
    if (u.defaultProjectId && !(await this.getProject(u.defaultProjectId))) throw new NotFoundError('project', u.defaultProjectId, 'default_project_id');
    const id = randomUUID();
    const passwordHash = await hashSecret(u.password);
    await this.claimName(this.key('user-name', u.domainId, u.name), id, 'user', u.name);
    const rec: UserRecord = { id, name: u.name, domainId: u.domainId, defaultProjectId: u.defaultProjectId ?? '', enabled: u.enabled ?? true, email: u.email ?? '', passwordHash, description: u.description ?? '', extra: u.extra ?? {}, hostIds: [] };
    await this.redis.multi().hset(this.key('user', id), this.userHash(rec)).sadd(this.key('users'), id).exec();
    return rec;
  }

  private userHash(u: UserRecord): Record<string, string> {
    return { id: u.id, name: u.name, domain_id: u.domainId, default_project_id: u.defaultProjectId, enabled: u.enabled ? '1' : '0', email: u.email, password_hash: u.passwordHash, description: u.description, extra: JSON.stringify(u.extra), host_ids: JSON.stringify(u.hostIds) };
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const h = await this.hash('user', id);
    return (
      h && { id: h.id, name: h.name, domainId: h.domain_id, defaultProjectId: h.default_project_id ?? '', enabled: flag(h.enabled), email: h.email ?? '', passwordHash: h.password_hash ?? '', description: h.description ?? '', extra: JSON.parse(h.extra || '{}') as Record<string, unknown>, hostIds: JSON.parse(h.host_ids || '[]') as string[] }
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
   * Changes name, enabled, password, email and/or default project (empty clears it).
   * @throws NotFoundError('user'|'project'), InvalidArgumentError('password'|'name'), AlreadyExistsError('user', name)
   */
  async updateUser(id: string, change: { enabled?: boolean; password?: string; email?: string; name?: string; defaultProjectId?: string; description?: string; extra?: Record<string, unknown> }): Promise<UserRecord> {
    const u = await this.requireUser(id);
    if (change.password !== undefined && !change.password) throw new InvalidArgumentError('password', 'must not be empty');
    if (change.defaultProjectId && !(await this.getProject(change.defaultProjectId))) throw new NotFoundError('project', change.defaultProjectId, 'default_project_id');
    if (change.name !== undefined) {
      checkName('name', change.name, 255);
      await this.renameIndex(this.key('user-name', u.domainId, u.name), this.key('user-name', u.domainId, change.name), id, 'user', change.name);
    }
    const next: UserRecord = {
      ...u,
      name: change.name ?? u.name,
      defaultProjectId: change.defaultProjectId ?? u.defaultProjectId,
      enabled: change.enabled ?? u.enabled,
      email: change.email ?? u.email,
      description: change.description ?? u.description,
      extra: change.extra ? { ...u.extra, ...change.extra } : u.extra,
      passwordHash: change.password !== undefined ? await hashSecret(change.password) : u.passwordHash,
    };
    if (JSON.stringify(next.extra).length > MAX_EXTRA_CHARS) throw new InvalidArgumentError('extra_json', `would be more than ${MAX_EXTRA_CHARS} characters`);
    await this.redis.hset(this.key('user', id), this.userHash(next));
    return next;
  }

  /**
   * Binds a compute agent's account to the hypervisor hosts it may act for (the seed's only write
   * of `hostIds`; its next tokens carry them). @throws NotFoundError('user')
   */
  async setUserHostIds(id: string, hostIds: readonly string[]): Promise<UserRecord> {
    const u = await this.requireUser(id);
    const next: UserRecord = { ...u, hostIds: [...hostIds] };
    await this.redis.hset(this.key('user', id), 'host_ids', JSON.stringify(next.hostIds));
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
  async createGroup(name: string, domainId: string, description = ''): Promise<GroupRecord> {
    checkName('name', name);
    await this.requireDomain(domainId);
    const id = randomUUID();
    await this.claimName(this.key('group-name', domainId, name), id, 'group', name);
    await this.redis.multi().hset(this.key('group', id), { id, name, domain_id: domainId, description }).sadd(this.key('groups'), id).exec();
    return { id, name, domainId, description };
  }

  async getGroup(id: string): Promise<GroupRecord | undefined> {
    const h = await this.hash('group', id);
    return h && { id: h.id, name: h.name, domainId: h.domain_id, description: h.description ?? '' };
  }

  /** @throws NotFoundError('group', id) */
  async requireGroup(id: string): Promise<GroupRecord> {
    const g = await this.getGroup(id);
    if (!g) throw new NotFoundError('group', id);
    return g;
  }

  /** Every group of every domain. */
  listGroups(): Promise<GroupRecord[]> {
    return this.all('group', (id) => this.getGroup(id));
  }

  /** @throws NotFoundError('group'), InvalidArgumentError('name'), AlreadyExistsError('group', name) */
  async updateGroup(id: string, change: { name?: string; description?: string }): Promise<GroupRecord> {
    const g = await this.requireGroup(id);
    if (change.name !== undefined) {
      checkName('name', change.name);
      await this.renameIndex(this.key('group-name', g.domainId, g.name), this.key('group-name', g.domainId, change.name), id, 'group', change.name);
    }
    const next: GroupRecord = { ...g, name: change.name ?? g.name, description: change.description ?? g.description };
    await this.redis.hset(this.key('group', id), { name: next.name, description: next.description });
    return next;
  }

  /** Deletes a group, its memberships and its role assignments. @returns the former members' ids. @throws NotFoundError('group') */
  async deleteGroup(id: string): Promise<string[]> {
    const g = await this.requireGroup(id);
    const members = await this.groupMembers(id);
    const doomed = (await this.redis.smembers(this.key('assignments'))).filter((m) => m.includes(`|g:${id}|`));
    const tx = this.redis.multi().del(this.key('group', id), this.key('group-members', id), this.key('group-name', g.domainId, g.name)).srem(this.key('groups'), id);
    for (const u of members) tx.srem(this.key('user-groups', u), id);
    if (doomed.length) tx.srem(this.key('assignments'), ...doomed);
    await tx.exec();
    return members;
  }

  /** @returns false when the user was not a member. @throws NotFoundError('group'|'user') */
  async removeUserFromGroup(groupId: string, userId: string): Promise<boolean> {
    await this.requireGroup(groupId);
    await this.requireUser(userId);
    const [[, removed]] = (await this.redis.multi().srem(this.key('group-members', groupId), userId).srem(this.key('user-groups', userId), groupId).exec()) as [[unknown, number]];
    return removed === 1;
  }

  /** Ids of the group's member users (none for an unknown group). */
  groupMembers(groupId: string): Promise<string[]> {
    return this.redis.smembers(this.key('group-members', groupId));
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
    checkName('name', name, 255);
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

  /**
   * Sets the roles a role implies (by name); the implied-role graph stays acyclic (Keystone's rule).
   * @throws NotFoundError('role'), InvalidArgumentError('implies') for a cycle
   */
  async setImplies(id: string, implies: string[]): Promise<RoleRecord> {
    const r = await this.getRole(id);
    if (!r) throw new NotFoundError('role', id);
    for (const n of implies) if (!(await this.roleByName(n))) throw new NotFoundError('role', n, 'in implies');
    const graph = Object.fromEntries((await this.listRoles()).map((x) => [x.name, x.id === id ? implies : x.implies]));
    const reaches = (from: string, seen = new Set<string>()): boolean =>
      (graph[from] ?? []).some((n) => n === r.name || (!seen.has(n) && (seen.add(n), reaches(n, seen))));
    if (reaches(r.name)) throw new InvalidArgumentError('implies', `role ${r.name} would imply itself`);
    const unique = [...new Set(implies)];
    await this.redis.hset(this.key('role', id), { implies: JSON.stringify(unique) });
    return { ...r, implies: unique };
  }

  /** @throws NotFoundError('role'), InvalidArgumentError('name'), AlreadyExistsError('role', name) */
  async updateRole(id: string, change: { name?: string }): Promise<RoleRecord> {
    const r = await this.getRole(id);
    if (!r) throw new NotFoundError('role', id);
    if (change.name === undefined || change.name === r.name) return r;
    checkName('name', change.name, 255);
    await this.renameIndex(this.key('role-name', r.name), this.key('role-name', change.name), id, 'role', change.name);
    // implied-role lists name roles: follow the rename
    const tx = this.redis.multi().hset(this.key('role', id), { name: change.name });
    for (const other of await this.listRoles()) {
      if (other.implies.includes(r.name)) tx.hset(this.key('role', other.id), { implies: JSON.stringify(other.implies.map((n) => (n === r.name ? change.name : n))) });
    }
    await tx.exec();
    return { ...r, name: change.name };
  }

  /**
   * Deletes a role, every assignment of it and its place in other roles' implied lists.
   * @returns the assignments removed. @throws NotFoundError('role')
   */
  async deleteRole(id: string): Promise<AssignmentRecord[]> {
    const r = await this.getRole(id);
    if (!r) throw new NotFoundError('role', id);
    const doomed = (await this.redis.smembers(this.key('assignments'))).filter((m) => m.endsWith(`|${id}`));
    const tx = this.redis.multi().del(this.key('role', id), this.key('role-name', r.name)).srem(this.key('roles'), id);
    if (doomed.length) tx.srem(this.key('assignments'), ...doomed);
    for (const other of await this.listRoles()) {
      if (other.implies.includes(r.name)) tx.hset(this.key('role', other.id), { implies: JSON.stringify(other.implies.filter((n) => n !== r.name)) });
    }
    await tx.exec();
    return doomed.map((m) => this.parse(m));
  }

  /** Role names expanded with every role they imply (transitively), from the stored implied-role graph. */
  async expand(roleNames: string[]): Promise<string[]> {
    const graph = Object.fromEntries((await this.listRoles()).map((r) => [r.name, r.implies]));
    return expandRoles(roleNames, graph);
  }

  // ---- assignments

  private member(a: AssignmentRecord): string {
    const scope = a.system === 'all' ? 's:all' : a.projectId ? `p:${a.projectId}` : `d:${a.domainId}`;
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
      ...(scope === 's:all' ? { system: 'all' as const } : {}),
    };
  }

  /**
   * Resolves and checks an assignment: exactly one actor (user_id or group_id) and one scope
   * (project_id, domain_id or system "all"); the role by id or name.
   * @throws InvalidArgumentError naming the field, NotFoundError for an unknown role/user/group/project/domain
   */
  async resolveAssignment(a: { roleId?: string; roleName?: string; userId?: string; groupId?: string; projectId?: string; domainId?: string; system?: string }): Promise<AssignmentRecord> {
    const role = a.roleId ? await this.getRole(a.roleId) : a.roleName ? await this.roleByName(a.roleName) : undefined;
    if (!a.roleId && !a.roleName) throw new InvalidArgumentError('assignment.role_id', 'role_id or role_name is required');
    if (!role) throw new NotFoundError('role', a.roleId || a.roleName || '');
    if (!!a.userId === !!a.groupId) throw new InvalidArgumentError('assignment.user_id', 'exactly one of user_id and group_id is required');
    if (a.system && a.system !== 'all') throw new InvalidArgumentError('assignment.system', `must be "all" (the only system scope), got "${a.system}"`);
    if ([a.projectId, a.domainId, a.system].filter(Boolean).length !== 1) throw new InvalidArgumentError('assignment.project_id', 'exactly one of project_id, domain_id and system is required');
    if (a.userId) await this.requireUser(a.userId);
    if (a.groupId && !(await this.getGroup(a.groupId))) throw new NotFoundError('group', a.groupId);
    if (a.projectId) await this.requireProject(a.projectId);
    if (a.domainId) await this.requireDomain(a.domainId);
    return { roleId: role.id, userId: a.userId ?? '', groupId: a.groupId ?? '', projectId: a.projectId ?? '', domainId: a.domainId ?? '', ...(a.system ? { system: 'all' as const } : {}) };
  }

  async assign(a: AssignmentRecord): Promise<void> {
    await this.redis.sadd(this.key('assignments'), this.member(a));
  }

  /** @returns false when there was no such assignment */
  async unassign(a: AssignmentRecord): Promise<boolean> {
    return (await this.redis.srem(this.key('assignments'), this.member(a))) === 1;
  }

  /** Direct assignments matching every given filter. */
  async listAssignments(filter: { userId?: string; projectId?: string; groupId?: string; domainId?: string; roleId?: string; system?: string } = {}): Promise<AssignmentRecord[]> {
    const all = (await this.redis.smembers(this.key('assignments'))).map((m) => this.parse(m));
    return all.filter(
      (a) =>
        (!filter.userId || a.userId === filter.userId) &&
        (!filter.projectId || a.projectId === filter.projectId) &&
        (!filter.groupId || a.groupId === filter.groupId) &&
        (!filter.domainId || a.domainId === filter.domainId) &&
        (!filter.roleId || a.roleId === filter.roleId) &&
        (!filter.system || a.system === filter.system),
    );
  }

  /**
   * The user's effective role names on the system scope (Keystone's system role assignments,
   * direct or through a group), expanded with implied roles; empty when they hold none.
   */
  async effectiveSystemRoles(userId: string): Promise<string[]> {
    const groups = new Set(await this.userGroups(userId));
    const mine = (await this.listAssignments({ system: 'all' })).filter((a) => a.userId === userId || (a.groupId && groups.has(a.groupId)));
    const names = (await Promise.all(mine.map((a) => this.getRole(a.roleId)))).filter((r): r is RoleRecord => !!r).map((r) => r.name);
    return names.length ? this.expand([...new Set(names)]) : [];
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
