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

/**
 * Default pools: Cinder LVM-like thin pools, ratio 20 (Cinder's default max_over_subscription_ratio),
 * on three simulated storage nodes (failure domains) so a 2-copy replicated volume can be repaired
 * onto a third node.
 */
export const DEFAULT_POOLS: PoolConfig[] = [
  { name: 'lvm@ssd', total_capacity_gb: 1000, max_over_subscription_ratio: 20, reserved_percentage: 0, thin_provisioning_support: true, volume_types: ['ssd', 'replicated'], storage_node: 'storage-1' },
  { name: 'lvm@hdd', total_capacity_gb: 4000, max_over_subscription_ratio: 20, reserved_percentage: 0, thin_provisioning_support: true, volume_types: ['hdd', 'replicated'], storage_node: 'storage-2' },
  { name: 'ceph@rbd', total_capacity_gb: 2000, max_over_subscription_ratio: 20, reserved_percentage: 0, thin_provisioning_support: true, volume_types: ['ssd', 'replicated'], storage_node: 'storage-3' },
];

/**
 * Default volume types (seeded at start when absent): QoS in the style of cloud block-storage tiers
 * (ssd ~ gp2 baseline 3000 IOPS / 125 MB/s, hdd ~ st1 500 IOPS / 40 MB/s; illustrative values), and
 * a 2-copy replicated type.
 */
export const DEFAULT_VOLUME_TYPES: Record<string, Record<string, string>> = {
  ssd: { 'qos:read_iops_sec': '3000', 'qos:write_iops_sec': '3000', 'qos:total_bytes_sec': '125000000' },
  hdd: { 'qos:read_iops_sec': '500', 'qos:write_iops_sec': '500', 'qos:total_bytes_sec': '40000000' },
  replicated: { replication_count: '2', 'qos:total_bytes_sec': '100000000' },
};

/** An env var holding JSON, parsed then validated by `schema`; `fallback` when unset or empty. */
function jsonEnv<T extends z.ZodTypeAny>(name: string, fallback: unknown, schema: T) {
  return z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return fallback;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} must be JSON` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const typesFromJson = jsonEnv('VOLUME_TYPES', DEFAULT_VOLUME_TYPES, z.record(z.string(), z.record(z.string(), z.string())));
const poolsFromJson = jsonEnv('POOLS', DEFAULT_POOLS, z.array(poolConfigSchema).min(1));

/**
 * The volume service's env: the common settings plus POOLS (JSON array of pools), DEFAULT_VOLUME_TYPE,
 * VOLUME_CREATE_DELAY_MS (simulated backend creation time), CAPACITY_WEIGHT_MULTIPLIER (Cinder's
 * capacity_weight_multiplier: 1 spreads, -1 stacks), VOLUME_TYPES (JSON: name -> extra specs, seeded
 * when absent), RESYNC_INTERVAL_MS (periodic resync/repair). GRPC_PORT defaults to 5002.
 */
export const volumeConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5002),
  POOLS: poolsFromJson,
  DEFAULT_VOLUME_TYPE: z.string().min(1).default('ssd'),
  VOLUME_CREATE_DELAY_MS: msSchema.default(200),
  CAPACITY_WEIGHT_MULTIPLIER: z.coerce.number().default(1),
  VOLUME_TYPES: typesFromJson,
  RESYNC_INTERVAL_MS: msSchema.default(10_000),
});
export type VolumeConfig = z.infer<typeof volumeConfigSchema>;
