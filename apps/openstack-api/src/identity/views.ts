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
 * methods, user and project each with their domain, roles with ids, audit_ids, issued_at,
 * expires_at, and the catalog unless `catalog` is undefined (`?nocatalog`).
 * @param roleIds role name -> id (from ListRoles); a name without an id gets a derived one
 */
export function tokenBody(
  info: identity.TokenInfo,
  opts: { methods: string[]; roleIds: ReadonlyMap<string, string>; domains: DomainNames; catalog?: KeystoneCatalogEntry[] },
): Record<string, unknown> {
  const domain = { id: info.domainId, name: opts.domains.get(info.domainId) ?? info.domainId };
  return {
    token: {
      methods: opts.methods,
      user: { id: info.userId, name: info.userName, domain, password_expires_at: null },
      audit_ids: [Buffer.from(info.tokenId.replace(/-/g, '').slice(0, 32), 'hex').toString('base64url') || info.tokenId],
      issued_at: keystoneTime(info.issuedAt),
      expires_at: keystoneTime(info.expiresAt),
      project: { id: info.projectId, name: info.projectName, domain },
      is_domain: false,
      roles: info.roles.map((name) => ({ id: opts.roleIds.get(name) ?? name, name })),
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
    tags: [],
    options: {},
    links: { self: `${base}/v3/projects/${p.id}` },
  };
}

/** A user as Keystone v3 shows it. */
export function userView(u: identity.User, base: string): Record<string, unknown> {
  return {
    id: u.id,
    name: u.name,
    domain_id: u.domainId,
    enabled: u.enabled,
    ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
    ...(u.email ? { email: u.email } : {}),
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
  return { id: d.id, name: d.name, description: '', enabled: d.enabled, tags: [], options: {}, links: { self: `${base}/v3/domains/${d.id}` } };
}
