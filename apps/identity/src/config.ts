import { z } from 'zod';
import { commonConfigShape, portSchema } from '@minicloud/platform-config';

/**
 * Identity's settings: the common ones plus ADMIN_PASSWORD (seeded admin user, default "admin"),
 * TOKEN_TTL_SECONDS (Keystone's [token] expiration, default 3600), IDENTITY_PUBLIC_URL (host:port put
 * in the catalog; default: the gRPC server's own address), REGION, QUOTA_SWEEP_INTERVAL_MS.
 */
export const identityConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5000),
  ADMIN_PASSWORD: z.string().min(1).default('admin'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86400).default(3600),
  IDENTITY_PUBLIC_URL: z.string().optional(),
  REGION: z.string().default('RegionOne'),
  QUOTA_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
});
export type IdentityConfig = z.infer<typeof identityConfigSchema>;
