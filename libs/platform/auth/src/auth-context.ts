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
}

/**
 * The role of a compute agent's own identity user (nova-compute's service user, narrowed): it may
 * call what agents call (host registration, VTEP/FDB, live-migration streams between agents,
 * revocations, image reads) and nothing only the controller or an operator may call.
 */
export const COMPUTE_AGENT_ROLE = 'compute_agent';

/** The built-in roles and what each implies (Keystone's default implied roles; a compute agent reads). */
export const IMPLIED_ROLES: Readonly<Record<string, readonly string[]>> = {
  admin: ['member', 'reader'],
  member: ['reader'],
  reader: [],
  [COMPUTE_AGENT_ROLE]: ['reader'],
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

export function isAdmin(ctx: AuthContext | undefined): boolean {
  return !!ctx?.roles.includes('admin');
}

/**
 * Checks that the caller may act for hypervisor host `hostId` (register it, register or read its
 * VTEP and FDB, migrate from it): an admin (the controller, an operator) for any host; a compute
 * agent's user only for the hosts bound to its account (`hostIds`, the token's `host_ids` claim).
 * Anyone else, and an agent without bound hosts, is refused (fail closed). With no caller at all
 * (a server without token verification, as in unit tests) there is nothing to check.
 * @param field the request field that named the host, for the message (e.g. `profile.host_id`)
 * @throws PermissionDeniedError naming the field and the host
 */
export function assertActsForHost(ctx: AuthContext | undefined, hostId: string, field: string): void {
  if (!ctx || isAdmin(ctx)) return;
  if (isComputeAgent(ctx) && (ctx.hostIds ?? []).includes(hostId)) return;
  throw new PermissionDeniedError(`${field}: user ${ctx.userName || ctx.userId} may not act for host ${hostId}`);
}

/** Whether the caller is a compute agent's own user ({@link COMPUTE_AGENT_ROLE}). */
export function isComputeAgent(ctx: AuthContext | undefined): boolean {
  return !!ctx?.roles.includes(COMPUTE_AGENT_ROLE);
}
