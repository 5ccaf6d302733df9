import { PermissionDeniedError } from '@minicloud/domain-errors';
import { COMPUTE_AGENT_ROLE, INSTANCE_ROLE, isCloudAdmin, type AuthContext } from './auth-context';

/**
 * Who may call a method (the oslo.policy "new defaults" of Keystone and Nova, reduced to roles and scope):
 * - `public`: no token (Authenticate, GetPublicKeys, GetCatalog);
 * - `authenticated`: any valid token;
 * - `project_reader` / `project_member`: a token whose expanded roles include `reader` / `member`
 *   (Nova's PROJECT_READER / PROJECT_MEMBER; the handler scopes to the token's project), or a cloud
 *   admin ({@link isCloudAdmin}, the `_OR_ADMIN` half of Nova's PROJECT_MEMBER_OR_ADMIN);
 * - `project_reader_or_instance`: `project_reader`, or an instance credential ({@link INSTANCE_ROLE})
 *   whose handler limits it to its own instance (reading what the guest itself is);
 * - `admin_api`: a cloud admin only (Nova's `admin_api`, Keystone's `system_admin`): role `admin` on a
 *   system-scoped token or on the cloud's admin project. Role `admin` on another project is not enough;
 * - `agent`: what compute agents call: a cloud admin (the controller, operators) or the compute-agent
 *   role ({@link COMPUTE_AGENT_ROLE}).
 * Project scoping (a member sees only its project's resources) is enforced by each handler.
 */
export type PolicyRule = 'public' | 'authenticated' | 'project_reader' | 'project_reader_or_instance' | 'project_member' | 'admin_api' | 'agent';

/**
 * The convention the policy table follows unless it says otherwise: reads (Get*, List*) need
 * `project_reader`; everything else `project_member`. The rules in force are in POLICY_TABLE (policy-table.ts).
 */
export function defaultRuleFor(method: string): PolicyRule {
  return /^(get|list)/.test(method) ? 'project_reader' : 'project_member';
}

/**
 * Checks one rule against the caller (see {@link PolicyRule}).
 * @throws PermissionDeniedError naming the method and what it needs
 */
export function authorize(rule: PolicyRule, method: string, ctx: AuthContext | undefined): void {
  if (rule === 'public' || rule === 'authenticated') return;
  if (isCloudAdmin(ctx)) return;
  if (rule === 'agent') {
    if (ctx?.roles.includes(COMPUTE_AGENT_ROLE)) return;
    throw new PermissionDeniedError(`${method} requires a cloud admin or role ${COMPUTE_AGENT_ROLE}`);
  }
  if (rule === 'admin_api') {
    throw new PermissionDeniedError(`${method} requires a cloud admin (role admin on the system scope or on the admin project)`);
  }
  if (rule === 'project_reader_or_instance' && ctx?.instanceId && ctx.roles.includes(INSTANCE_ROLE)) return;
  const role = rule === 'project_member' ? 'member' : 'reader';
  if (!ctx || !ctx.roles.includes(role)) {
    throw new PermissionDeniedError(`${method} requires role ${role}`);
  }
}
