import type { identity } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { AuthContext } from '@minicloud/platform-auth';
import type { AppCredentialRecord } from '../app-credential-store';
import type { AssignmentRecord, DomainRecord, GroupRecord, ProjectRecord, RoleRecord, UserRecord } from '../directory-store';
import type { QuotaView } from '../quota-store';

export const toDomain = (d: DomainRecord): identity.Domain => ({ id: d.id, name: d.name, enabled: d.enabled, description: d.description });
export const toGroup = (g: GroupRecord): identity.Group => ({ ...g });
export const toProject = (p: ProjectRecord): identity.Project => ({ ...p });
export const toUser = (u: UserRecord): identity.User => ({ id: u.id, name: u.name, domainId: u.domainId, defaultProjectId: u.defaultProjectId, enabled: u.enabled, email: u.email, description: u.description, extraJson: Object.keys(u.extra).length ? JSON.stringify(u.extra) : '' });
export const toRole = (r: RoleRecord): identity.Role => ({ id: r.id, name: r.name, implies: r.implies });
export const toAssignment = (a: AssignmentRecord, roleName: string): identity.RoleAssignment => ({ ...a, system: a.system ?? '', roleName });
export const toQuota = (q: QuotaView): identity.Quota => ({ projectId: q.projectId, limits: q.limits, inUse: q.inUse, reserved: q.reserved });

export function toTokenInfo(c: AuthContext): DeepPartial<identity.TokenInfo> {
  return {
    tokenId: c.tokenId,
    userId: c.userId,
    userName: c.userName,
    projectId: c.projectId,
    projectName: c.projectName,
    domainId: c.domainId,
    roles: c.roles,
    issuedAt: new Date(c.issuedAtMs),
    expiresAt: new Date(c.expiresAtMs),
    instanceId: c.instanceId ?? '',
    hostIds: c.hostIds ?? [],
    system: c.systemScope ?? '',
    isAdminProject: c.isAdminProject ?? false,
  };
}

export function toAppCredential(c: AppCredentialRecord): DeepPartial<identity.ApplicationCredential> {
  return { id: c.id, name: c.name, userId: c.userId, projectId: c.projectId, roles: c.roles, expiresAt: c.expiresAtMs ? new Date(c.expiresAtMs) : undefined };
}

/**
 * Offset pagination over a name-sorted list: page_token is the decimal offset of the next item.
 * @throws nothing; a bad token starts at 0
 */
export function paginate<T extends { name: string }>(items: T[], page?: { pageSize: number; pageToken: string }): { items: T[]; nextPageToken: string } {
  const sorted = [...items].sort((a, b) => a.name.localeCompare(b.name));
  const start = Math.max(0, Number.parseInt(page?.pageToken || '0', 10) || 0);
  const size = page?.pageSize && page.pageSize > 0 ? Math.min(page.pageSize, 1000) : 1000;
  const slice = sorted.slice(start, start + size);
  return { items: slice, nextPageToken: start + size < sorted.length ? String(start + size) : '' };
}
