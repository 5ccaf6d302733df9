import { PermissionDeniedError } from '@minicloud/domain-errors';
import { COMPUTE_AGENT_ROLE, type AuthContext } from './auth-context';

/**
 * Who may call a method (the oslo.policy defaults of OpenStack, reduced to roles):
 * - `public`: no token (Authenticate, GetPublicKeys, GetCatalog);
 * - `authenticated`: any valid token;
 * - `reader` / `member` / `admin`: a token whose expanded roles include it;
 * - `agent`: what compute agents call: `admin` (the controller and operators) or the compute-agent
 *   role ({@link COMPUTE_AGENT_ROLE}).
 * Project scoping (a member sees only its project's resources) is enforced by each handler.
 */
export type PolicyRule = 'public' | 'authenticated' | 'reader' | 'member' | 'admin' | 'agent';

/**
 * The convention the policy table follows unless it says otherwise: reads (Get*, List*) need
 * `reader`; everything else `member`. The rules in force are in POLICY_TABLE (policy-table.ts).
 */
export function defaultRuleFor(method: string): PolicyRule {
  return /^(get|list)/.test(method) ? 'reader' : 'member';
}

/** @throws PermissionDeniedError naming the method and the role it needs */
export function authorize(rule: PolicyRule, method: string, ctx: AuthContext | undefined): void {
  if (rule === 'public' || rule === 'authenticated') return;
  if (rule === 'agent') {
    if (ctx && (ctx.roles.includes('admin') || ctx.roles.includes(COMPUTE_AGENT_ROLE))) return;
    throw new PermissionDeniedError(`${method} requires role admin or ${COMPUTE_AGENT_ROLE}`);
  }
  if (!ctx || !ctx.roles.includes(rule)) {
    throw new PermissionDeniedError(`${method} requires role ${rule}`);
  }
}
