import { PermissionDeniedError } from '@minicloud/domain-errors';

/**
 * Who is calling, as carried by a verified token (Keystone's token data). `roles` already has
 * implied roles expanded (admin implies member implies reader).
 */
export interface AuthContext {
  tokenId: string;
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  domainId: string;
  roles: string[];
  issuedAtMs: number;
  expiresAtMs: number;
  /** Set when the token is an instance identity credential. */
  instanceId?: string;
  /** Set when the token came from an application credential (which may not create another one). */
  applicationCredentialId?: string;
  /**
   * The hypervisor hosts a compute agent's user may act for (claim `host_ids`), bound to its account
   * when the account was made (SERVICE_ACCOUNTS). See {@link assertActsForHost}.
   */
  hostIds?: string[];
  /**
   * Keystone's system scope: `'all'` when the token is scoped to the whole deployment (token body
   * `"system": {"all": true}`) instead of a project; such a token has no project.
   */
  systemScope?: 'all';
  /**
   * Keystone's `is_admin_project`: the token is scoped to the cloud's designated admin project
   * (keystone.conf `[resource] admin_project_name`), so its `admin` role is cloud-wide.
   */
  isAdminProject?: boolean;
}

/**
 * The role of a compute agent's own identity user (nova-compute's service user, narrowed): it may
 * call what agents call (host registration, VTEP/FDB, live-migration streams between agents,
 * revocations, image reads) and nothing only the controller or an operator may call.
 */
export const COMPUTE_AGENT_ROLE = 'compute_agent';

/**
 * The only role of an instance identity credential (the token software inside a VM gets from the
 * metadata API): it implies no other role, so the credential passes no `project_reader` or
 * `project_member` rule; it may call only `authenticated` methods and the `project_reader_or_instance`
 * ones, where the handler limits it to its own instance (`instanceId`). A guest can read what it is
 * (its server, its interfaces, its project) but cannot create, change or delete servers, nor read
 * the other servers of its project.
 */
export const INSTANCE_ROLE = 'instance';

/** The built-in roles and what each implies (Keystone's default implied roles; a compute agent reads). */
export const IMPLIED_ROLES: Readonly<Record<string, readonly string[]>> = {
  admin: ['member', 'reader'],
  member: ['reader'],
  reader: [],
  [COMPUTE_AGENT_ROLE]: ['reader'],
  [INSTANCE_ROLE]: [],
};

/** Expands a role list with the roles they imply (transitively), without duplicates. */
export function expandRoles(roles: readonly string[], implied: Readonly<Record<string, readonly string[]>> = IMPLIED_ROLES): string[] {
  const out = new Set<string>();
  const visit = (r: string) => {
    if (out.has(r)) return;
    out.add(r);
    for (const i of implied[r] ?? []) visit(i);
  };
  roles.forEach(visit);
  return [...out];
}

/**
 * THE definition of a cloud administrator (Keystone's and Nova's `admin_api` / `system_admin`): role
 * `admin` on a system-scoped token, or on a token scoped to the cloud's admin project
 * (`is_admin_project`, Keystone's compatibility with clients that know no system scope). Every
 * cloud-wide power (other projects' resources, flavors, aggregates, hosts, shared and external
 * networks, quotas of others, service-to-service calls) is checked with this function. Role `admin`
 * on any other project is only {@link isProjectAdmin}: a member of its own project.
 */
export function isCloudAdmin(ctx: AuthContext | undefined): boolean {
  return !!ctx?.roles.includes('admin') && (ctx.systemScope === 'all' || ctx.isAdminProject === true);
}

/** Role `admin` on a project-scoped token (Nova's `project_admin`): cloud-wide only when {@link isCloudAdmin}. */
export function isProjectAdmin(ctx: AuthContext | undefined): boolean {
  return !!ctx?.roles.includes('admin') && !!ctx.projectId;
}

/**
 * Checks that the caller may act for hypervisor host `hostId` (register it, register or read its
 * VTEP and FDB, migrate from it): a cloud admin (the controller, an operator) for any host; a compute
 * agent's user only for the hosts bound to its account (`hostIds`, the token's `host_ids` claim).
 * Anyone else, and an agent without bound hosts, is refused (fail closed). With no caller at all
 * (a server without token verification, as in unit tests) there is nothing to check.
 * @param field the request field that named the host, for the message (e.g. `profile.host_id`)
 * @throws PermissionDeniedError naming the field and the host
 */
export function assertActsForHost(ctx: AuthContext | undefined, hostId: string, field: string): void {
  if (!ctx || isCloudAdmin(ctx)) return;
  if (isComputeAgent(ctx) && (ctx.hostIds ?? []).includes(hostId)) return;
  throw new PermissionDeniedError(`${field}: user ${ctx.userName || ctx.userId} may not act for host ${hostId}`);
}

/** Whether the caller holds an instance identity credential ({@link INSTANCE_ROLE}, claim `instance_id`). */
export function isInstanceCredential(ctx: AuthContext | undefined): boolean {
  return !!ctx?.instanceId;
}

/** Whether the caller is a compute agent's own user ({@link COMPUTE_AGENT_ROLE}). */
export function isComputeAgent(ctx: AuthContext | undefined): boolean {
  return !!ctx?.roles.includes(COMPUTE_AGENT_ROLE);
}
