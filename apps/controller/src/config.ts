import { z } from 'zod';
import { commonConfigShape, msSchema, portSchema } from '@minicloud/platform-config';

const ratio = z.coerce.number().positive();

/**
 * Environment of the controller (Nova API + scheduler + conductor).
 * Allocation ratios default to Nova's `initial_cpu_allocation_ratio` 4.0, `initial_ram_allocation_ratio`
 * 1.0 and `initial_disk_allocation_ratio` 1.0 (Nova >= Stein; the older 16.0/1.5/1.0 overcommitted RAM,
 * which a memory model with swap would punish). RESERVED_HOST_MEMORY_MB defaults to 0 (simulated hosts
 * have no host OS; Nova's default is 512).
 * Timings (ms): HEARTBEAT_INTERVAL_MS / LEASE_TTL_MS / SELF_FENCE_AFTER_MS are handed to agents at
 * registration; HOST_DOWN_AFTER_MS without a heartbeat marks a host down (Nova's service_down_time,
 * scaled to our 1 s heartbeats).
 */
export const controllerConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5004),
  CPU_ALLOCATION_RATIO: ratio.default(4.0),
  RAM_ALLOCATION_RATIO: ratio.default(1.0),
  DISK_ALLOCATION_RATIO: ratio.default(1.0),
  RESERVED_HOST_MEMORY_MB: z.coerce.number().int().min(0).default(0),
  HEARTBEAT_INTERVAL_MS: msSchema.default(1000),
  LEASE_TTL_MS: msSchema.default(3000),
  SELF_FENCE_AFTER_MS: msSchema.default(6000),
  HOST_DOWN_AFTER_MS: msSchema.default(5000),
  /** How often the leader evaluates host liveness and this replica flushes heartbeat times to Redis. */
  LIVENESS_INTERVAL_MS: msSchema.default(1000),
  /** Leader's resync: instances whose task_state has not moved for RESYNC_STUCK_AFTER_MS are re-enqueued. */
  RESYNC_INTERVAL_MS: msSchema.default(10_000),
  RESYNC_STUCK_AFTER_MS: msSchema.default(30_000),
  LEADER_TTL_MS: msSchema.default(5000),
  /** Instances built/acted on at once by this replica. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).default(16),
  /** Nova's host_subset_size. */
  SCHEDULER_HOST_SUBSET_SIZE: z.coerce.number().int().min(1).default(1),
  /** Schedule+claim rounds before giving up on claim conflicts (Nova's max_attempts spirit). */
  SCHEDULER_CLAIM_ROUNDS: z.coerce.number().int().min(1).default(3),
  /** Deadline of controller -> agent commands. */
  AGENT_DEADLINE_MS: msSchema.default(10_000),
});

export type ControllerConfig = z.infer<typeof controllerConfigSchema>;
