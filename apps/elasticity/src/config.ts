import { z } from 'zod';
import { commonConfigShape, msSchema, portSchema } from '@minicloud/platform-config';

/**
 * The elasticity service's env: the common settings plus EVALUATION_PERIOD_MS (one metric datapoint
 * and one policy evaluation per group per period; AWS's one-minute metrics), LEADER_TTL_MS (the
 * reconcile loop runs on the leader only) and RESYNC_INTERVAL_MS (every group re-enqueued, so a
 * missed event costs at most this). GRPC_PORT defaults to 5005.
 */
export const elasticityConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5005),
  EVALUATION_PERIOD_MS: msSchema.default(60_000),
  LEADER_TTL_MS: msSchema.default(6_000),
  RESYNC_INTERVAL_MS: msSchema.default(30_000),
});
export type ElasticityConfig = z.infer<typeof elasticityConfigSchema>;
