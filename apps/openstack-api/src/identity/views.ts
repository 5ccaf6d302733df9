import type { identity } from '@minicloud/proto';
import type { KeystoneCatalogEntry } from './catalog';

/** Keystone's timestamp form: ISO 8601 UTC with microseconds ("2026-12-07T01:02:03.456000Z"). */
export function keystoneTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') : null;
}

/** Names of domains by id, for the `domain: {id, name}` objects of a token (the id stands in when unknown). */
export type DomainNames = ReadonlyMap<string, string>;

/**
 * The body of a token (POST/GET /v3/auth/tokens) from what identity says the token carries:
 * methods, user and project each with their domain (or Keystone's `system: {all: true}` for a
 * system-scoped token), roles with ids, `is_admin_project`, audit_ids, issued_at, expires_at, and the
 * catalog unless `catalog` is undefined (`?nocatalog`).
 * @param roleIds role name -> id (from ListRoles); a name without an id gets a derived one
 */
export function tokenBody(
  info: identity.TokenInfo,
  opts: { methods: string[]; roleIds: ReadonlyMap<string, string>; domains: DomainNames; catalog?: KeystoneCatalogEntry[] },
): Record<string, unknown> {
  const domain = { id: info.domainId, name: info.domainName || (opts.domains.get(info.domainId) ?? info.domainId) };
  const userDomainId = info.userDomainId || info.domainId;
  const userDomain = { id: userDomainId, name: info.userDomainName || (opts.domains.get(userDomainId) ?? userDomainId) };
  const roleIds = new Map([...opts.roleIds, ...info.roleRefs.filter((r) => r.id).map((r) => [r.name, r.id] as const)]);
  return {
    token: {
      methods: opts.methods,
      user: { id: info.userId, name: info.userName, domain: userDomain, password_expires_at: null },
      audit_ids: [Buffer.from(info.tokenId.replace(/-/g, '').slice(0, 32), 'hex').toString('base64url') || info.tokenId],
      issued_at: keystoneTime(info.issuedAt),
      expires_at: keystoneTime(info.expiresAt),
      // an unscoped token names no project and carries no roles; a system-scoped one names the system
      ...(info.projectId
        ? {
            project: { id: info.projectId, name: info.projectName, domain },
            is_domain: false,
            // Keystone's admin_project compatibility: admin on this project is cloud-wide
            is_admin_project: info.isAdminProject,
            roles: info.roles.map((name) => ({ id: roleIds.get(name) ?? name, name })),
          }
        : {}),
      ...(info.system ? { system: { [info.system]: true }, roles: info.roles.map((name) => ({ id: roleIds.get(name) ?? name, name })) } : {}),
      ...(opts.catalog ? { catalog: opts.catalog } : {}),
    },
  };
}

/** Keystone's collection `links` (this front lists in one page). */
export function collectionLinks(self: string): Record<string, string | null> {
  return { self, previous: null, next: null };
}

/** A project as Keystone v3 shows it. */
export function projectView(p: identity.Project, base: string): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    domain_id: p.domainId,
    description: p.description,
    enabled: p.enabled,
    parent_id: p.parentId || p.domainId,
    is_domain: false,
    tags: p.tags,
    options: {},
    links: { self: `${base}/v3/projects/${p.id}` },
  };
}

/** A user as Keystone v3 shows it. */
export function userView(u: identity.User, base: string): Record<string, unknown> {
  return {
    // Keystone shows a user's extra attributes beside the known ones
    ...(u.extraJson ? (JSON.parse(u.extraJson) as Record<string, unknown>) : {}),
    id: u.id,
    name: u.name,
    domain_id: u.domainId,
    enabled: u.enabled,
    ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
    ...(u.email ? { email: u.email } : {}),
    ...(u.description ? { description: u.description } : {}),
    password_expires_at: null,
    options: {},
    links: { self: `${base}/v3/users/${u.id}` },
  };
}

/** A role as Keystone v3 shows it (global roles: domain_id null). */
export function roleView(r: identity.Role, base: string): Record<string, unknown> {
  return { id: r.id, name: r.name, domain_id: null, description: null, options: {}, links: { self: `${base}/v3/roles/${r.id}` } };
}

/** A domain as Keystone v3 shows it. */
export function domainView(d: identity.Domain, base: string): Record<string, unknown> {
  return { id: d.id, name: d.name, description: d.description, enabled: d.enabled, tags: [], options: {}, links: { self: `${base}/v3/domains/${d.id}` } };
}

/** A group as Keystone v3 shows it. */
export function groupView(g: identity.Group, base: string): Record<string, unknown> {
  return { id: g.id, name: g.name, domain_id: g.domainId, description: g.description, links: { self: `${base}/v3/groups/${g.id}` } };
}

/** Names for `include_names` of role assignments (absent: ids only). */
export interface AssignmentNames {
  roles: ReadonlyMap<string, string>;
  users: ReadonlyMap<string, { name: string; domainId: string }>;
  groups: ReadonlyMap<string, { name: string; domainId: string }>;
  projects: ReadonlyMap<string, { name: string; domainId: string }>;
  domains: ReadonlyMap<string, string>;
}

/**
 * A role assignment as GET /v3/role_assignments shows it: role, scope (project or domain), user or
 * group, and the `links.assignment` URL of the grant; with `names`, each carries its name and domain.
 */
export function roleAssignmentView(a: identity.RoleAssignment, base: string, names?: AssignmentNames): Record<string, unknown> {
  const domainOf = (id: string) => (names ? { domain: { id, name: names.domains.get(id) ?? id } } : {});
  const named = (id: string, m: ReadonlyMap<string, { name: string; domainId: string }> | undefined) => {
    const x = m?.get(id);
    return x ? { id, name: x.name, ...domainOf(x.domainId) } : { id };
  };
  const scope = a.system
    ? { system: { [a.system]: true } }
    : a.projectId
      ? { project: named(a.projectId, names?.projects) }
      : { domain: names ? { id: a.domainId, name: names.domains.get(a.domainId) ?? a.domainId } : { id: a.domainId } };
  const actor = a.userId ? { user: named(a.userId, names?.users) } : { group: named(a.groupId, names?.groups) };
  const role = names ? { id: a.roleId, name: names.roles.get(a.roleId) ?? a.roleName } : { id: a.roleId };
  const scopePath = a.system ? 'system' : a.projectId ? `projects/${a.projectId}` : `domains/${a.domainId}`;
  const actorPath = a.userId ? `users/${a.userId}` : `groups/${a.groupId}`;
  return { role, scope, ...actor, links: { assignment: `${base}/v3/${scopePath}/${actorPath}/roles/${a.roleId}` } };
}

/** An application credential as Keystone v3 shows it (`secret` only in the create answer). */
export function appCredentialView(c: identity.ApplicationCredential, base: string, roles: ReadonlyMap<string, string>, secret?: string): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    description: null,
    user_id: c.userId,
    project_id: c.projectId,
    expires_at: c.expiresAt ? keystoneTime(c.expiresAt) : null,
    unrestricted: false,
    access_rules: [],
    roles: c.roles.map((name) => ({ id: roles.get(name) ?? name, name, domain_id: null })),
    ...(secret !== undefined ? { secret } : {}),
    links: { self: `${base}/v3/users/${c.userId}/application_credentials/${c.id}` },
  };
}
