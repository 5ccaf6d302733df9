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
}

/** The built-in roles and what each implies (Keystone's default implied roles). */
export const IMPLIED_ROLES: Readonly<Record<string, readonly string[]>> = {
  admin: ['member', 'reader'],
  member: ['reader'],
  reader: [],
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
