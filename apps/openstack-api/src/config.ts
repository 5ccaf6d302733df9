import { z } from 'zod';
import { commonConfigShape, portSchema } from '@minicloud/platform-config';

/**
 * The REST front's settings: HTTP_HOST/HTTP_PORT (the one port of every API; default 127.0.0.1:0),
 * METRICS_PORT, IDENTITY_URL (identity's gRPC address; the other services come from its catalog),
 * PUBLIC_URL (scheme://host:port put in the Keystone catalog and links; default: each request's
 * Host), REGION (catalog region, RegionOne), GRPC_DEADLINE_MS (per gRPC call, default 30 s),
 * MAX_BODY_BYTES (request body limit, default 1 MiB), and the service user (SERVICE_USER/
 * SERVICE_PASSWORD/SERVICE_PROJECT), used only to register this endpoint in the catalog, never for
 * a caller's request.
 */
export const openstackApiConfigSchema = z.object({
  LOG_LEVEL: commonConfigShape.LOG_LEVEL,
  IDENTITY_URL: commonConfigShape.IDENTITY_URL,
  SERVICE_USER: commonConfigShape.SERVICE_USER,
  SERVICE_PASSWORD: commonConfigShape.SERVICE_PASSWORD,
  SERVICE_PROJECT: commonConfigShape.SERVICE_PROJECT,
  PUBLIC_HOST: commonConfigShape.PUBLIC_HOST,
  METRICS_PORT: commonConfigShape.METRICS_PORT,
  METRICS_BEARER_TOKEN: commonConfigShape.METRICS_BEARER_TOKEN,
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: portSchema.default(0),
  PUBLIC_URL: z.string().url().optional(),
  REGION: z.string().min(1).default('RegionOne'),
  GRPC_DEADLINE_MS: z.coerce.number().int().min(100).default(30_000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1 << 20),
});
export type OpenstackApiConfig = z.infer<typeof openstackApiConfigSchema>;
