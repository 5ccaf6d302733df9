import { z } from 'zod';
import { COMPUTE_AGENT_ROLE } from '@minicloud/platform-auth';
import { commonConfigShape, portSchema } from '@minicloud/platform-config';
import type { ServiceAccount } from './seed';

/**
 * Identity's settings: the common ones plus ADMIN_PASSWORD (the seeded admin user's password: required,
 * no default; the bring-up and compose generate it), SIGNING_KEY_ENCRYPTION_KEY (see below),
 * TOKEN_TTL_SECONDS (Keystone's [token] expiration, default 3600), IDENTITY_PUBLIC_URL (host:port put
 * in the catalog; default: the gRPC server's own address), REGION, QUOTA_SWEEP_INTERVAL_MS, and
 * Keystone's [security_compliance] lockout: LOCKOUT_FAILURE_ATTEMPTS failed logins in a row lock a
 * user name for LOCKOUT_DURATION_SECONDS after the last failure (0 attempts = no lockout). Defaults
 * 6 and 1800 s, the values Keystone's security-compliance (PCI-DSS) guide gives: lock out after not
 * more than six attempts (PCI-DSS 8.1.6), for at least 30 minutes (8.1.7). SERVICE_USER is exempt,
 * as Keystone's guide exempts service users (ignore_lockout_failure_attempts), so guessing at it
 * cannot stop the cloud.
 */
/** `JSON.parse`, or undefined when `s` is not JSON. */
function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

const serviceAccountsSchema = z.array(z.object({ name: z.string().min(1).max(255), password: z.string().min(1), role: z.enum(['admin', COMPUTE_AGENT_ROLE]), hostIds: z.array(z.string().min(1).max(255)).max(1024).optional() }));

export const identityConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5000),
  ADMIN_PASSWORD: z.string().min(1),
  /**
   * 32 bytes in base64: identity's signing private keys are stored in Redis sealed with AES-256-GCM
   * under this key (the bring-up generates it into the state dir). Unset: stored in clear text, with
   * only Redis's ACLs keeping other services out.
   */
  SIGNING_KEY_ENCRYPTION_KEY: z.string().min(1).optional(),
  /**
   * Per-service and per-agent identity users, seeded at start on the service project and exempt from
   * lockout like SERVICE_USER: JSON `[{"name","password","role":"admin"|"compute_agent","hostIds"?}]`.
   * The bring-up gives each service (admin) and each compute agent (compute_agent) its own; an
   * agent's `hostIds` are the hypervisor hosts it may act for (carried in its tokens as `host_ids`).
   */
  SERVICE_ACCOUNTS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return [] as ServiceAccount[];
      const parsed = serviceAccountsSchema.safeParse(parseJson(s));
      if (!parsed.success) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a JSON array of {name, password, role: "admin" | "compute_agent", hostIds?: string[]}' });
        return z.NEVER;
      }
      return parsed.data;
    }),
  /**
   * Keystone's `[resource] admin_project_name` / `admin_project_domain_name`: role admin on this
   * project is cloud-wide (tokens scoped to it carry `is_admin_project`), as on a system-scoped
   * token; role admin on any other project is only that project's admin.
   */
  ADMIN_PROJECT_NAME: z.string().min(1).max(255).default('admin'),
  ADMIN_PROJECT_DOMAIN_NAME: z.string().min(1).max(255).default('Default'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86400).default(3600),
  IDENTITY_PUBLIC_URL: z.string().optional(),
  QUOTA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  LOCKOUT_FAILURE_ATTEMPTS: z.coerce.number().int().min(0).default(6),
  LOCKOUT_DURATION_SECONDS: z.coerce.number().int().min(1).default(1800),
});
export type IdentityConfig = z.infer<typeof identityConfigSchema>;
