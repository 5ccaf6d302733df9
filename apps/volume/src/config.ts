import { z } from 'zod';
import { commonConfigShape, msSchema, portSchema } from '@minicloud/platform-config';

/** One pool of the POOLS env JSON; capacities in GB. */
export const poolConfigSchema = z.object({
  /** backend@pool */
  name: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be backend@pool'),
  total_capacity_gb: z.number().int().positive(),
  max_over_subscription_ratio: z.number().positive().default(20),
  reserved_percentage: z.number().int().min(0).max(100).default(0),
  thin_provisioning_support: z.boolean().default(true),
  volume_types: z.array(z.string().min(1)).default([]),
  storage_node: z.string().min(1),
});
export type PoolConfig = z.infer<typeof poolConfigSchema>;

/** Default pools: Cinder LVM-like thin pools, ratio 20 (Cinder's default max_over_subscription_ratio). */
export const DEFAULT_POOLS: PoolConfig[] = [
  { name: 'lvm@ssd', total_capacity_gb: 1000, max_over_subscription_ratio: 20, reserved_percentage: 0, thin_provisioning_support: true, volume_types: ['ssd'], storage_node: 'storage-1' },
  { name: 'lvm@hdd', total_capacity_gb: 4000, max_over_subscription_ratio: 20, reserved_percentage: 0, thin_provisioning_support: true, volume_types: ['hdd'], storage_node: 'storage-2' },
];

const poolsFromJson = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return DEFAULT_POOLS;
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'POOLS must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(poolConfigSchema).min(1));

/**
 * The volume service's env: the common settings plus POOLS (JSON array of pools), DEFAULT_VOLUME_TYPE,
 * VOLUME_CREATE_DELAY_MS (simulated backend creation time), CAPACITY_WEIGHT_MULTIPLIER (Cinder's
 * capacity_weight_multiplier: 1 spreads, -1 stacks). GRPC_PORT defaults to 5002.
 */
export const volumeConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5002),
  POOLS: poolsFromJson,
  DEFAULT_VOLUME_TYPE: z.string().min(1).default('ssd'),
  VOLUME_CREATE_DELAY_MS: msSchema.default(200),
  CAPACITY_WEIGHT_MULTIPLIER: z.coerce.number().default(1),
});
export type VolumeConfig = z.infer<typeof volumeConfigSchema>;
