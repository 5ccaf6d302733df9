import { z } from 'zod';
import { commonConfigShape, portSchema } from '@minicloud/platform-config';

/**
 * Identity's settings: the common ones plus ADMIN_PASSWORD (seeded admin user, default "admin"),
 * TOKEN_TTL_SECONDS (Keystone's [token] expiration, default 3600), IDENTITY_PUBLIC_URL (host:port put
 * in the catalog; default: the gRPC server's own address), REGION, QUOTA_SWEEP_INTERVAL_MS, and
 * Keystone's [security_compliance] lockout: LOCKOUT_FAILURE_ATTEMPTS failed logins in a row lock a
 * user name for LOCKOUT_DURATION_SECONDS after the last failure (0 attempts = no lockout). Defaults
 * 6 and 1800 s, the values Keystone's security-compliance (PCI-DSS) guide gives: lock out after not
 * more than six attempts (PCI-DSS 8.1.6), for at least 30 minutes (8.1.7). SERVICE_USER is exempt,
 * as Keystone's guide exempts service users (ignore_lockout_failure_attempts), so guessing at it
 * cannot stop the cloud.
 */
export const identityConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5000),
  ADMIN_PASSWORD: z.string().min(1).default('admin'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86400).default(3600),
  IDENTITY_PUBLIC_URL: z.string().optional(),
  REGION: z.string().default('RegionOne'),
  QUOTA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  LOCKOUT_FAILURE_ATTEMPTS: z.coerce.number().int().min(0).default(6),
  LOCKOUT_DURATION_SECONDS: z.coerce.number().int().min(1).default(1800),
});
export type IdentityConfig = z.infer<typeof identityConfigSchema>;
