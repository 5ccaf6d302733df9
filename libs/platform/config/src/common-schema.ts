import { z } from 'zod';

/** A TCP port from an env string; 0 asks the OS for a free one. */
export const portSchema = z.coerce.number().int().min(0).max(65535);

/** Milliseconds from an env string. */
export const msSchema = z.coerce.number().int().min(0);

/** Boolean from env: "1", "true", "yes" are true. */
export const boolSchema = z
  .union([z.boolean(), z.string()])
  .transform((v) => (typeof v === 'boolean' ? v : ['1', 'true', 'yes', 'on'].includes(v.toLowerCase())));

/**
 * Settings every minicloud process shares. Defaults match the machine's own Redis and NATS
 * (REDIS_URL and NATS_URL may carry a user and password: `redis://user:pw@host:port`).
 * `SERVICE_PASSWORD` is the password of the `minicloud` service user that services use to call each
 * other (Nova's service user), seeded by identity. It has no default: a process that logs in (or
 * identity, which seeds it) refuses to start without it ({@link requireSecret}); the bring-up and
 * compose generate it.
 */
export const commonConfigShape = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: portSchema.default(0),
  /**
   * Host name or IP that other processes use to reach this one (containers: the service or container
   * name). When set, the gRPC address a service registers (catalog, host registry) and logs is
   * `<PUBLIC_HOST>:<bound port>` instead of the bind address GRPC_HOST (which may be 0.0.0.0).
   */
  PUBLIC_HOST: z.string().min(1).optional(),
  METRICS_PORT: portSchema.default(0),
  /**
   * When set, `/metrics` answers only scrapes with `Authorization: Bearer <this>` (401 otherwise);
   * /healthz and /readyz stay open. Unset: /metrics is open. At least 16 characters.
   */
  METRICS_BEARER_TOKEN: z.string().min(16).optional(),
  IDENTITY_URL: z.string().default('127.0.0.1:5000'),
  /**
   * The region this process belongs to (Keystone's region id). A region is a whole cloud with its own
   * Redis and NATS; every region's services register their endpoints under their region in the one
   * shared identity's catalog, and clients pick the endpoints of the region they ask for.
   */
  REGION: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a region id: letters, digits, _ . -, at most 64').default('RegionOne'),
  SERVICE_USER: z.string().default('minicloud'),
  SERVICE_PASSWORD: z.string().min(1).optional(),
  SERVICE_PROJECT: z.string().default('service'),
  /**
   * Every service re-reads identity's revocations (ListRevocations) after each NATS reconnection and
   * also every this many ms (0: only after reconnections). Default 60 s: the longest a revocation
   * whose NATS event was lost (identity itself disconnected) is ignored by a connected service.
   */
  REVOCATION_RESYNC_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Where a process writes "<service> ready <grpc> <metrics>" as one JSON line when ready (bring-up reads it). */
  READY_FILE: z.string().optional(),
};

export const commonConfigSchema = z.object(commonConfigShape);
export type CommonConfig = z.infer<typeof commonConfigSchema>;
