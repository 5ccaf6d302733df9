import { z } from 'zod';
import { commonConfigShape, msSchema, portSchema } from '@minicloud/platform-config';

const ratio = z.coerce.number().positive();

/** An on/off setting: 'true' or '1', 'false' or '0' (anything else is a configuration error). */
const flag = (byDefault: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(byDefault ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

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
  /**
   * Full reload period of the scheduler's in-memory host state (placement/host-state-cache.ts): how
   * long another replica's claims, host changes or heartbeat flushes can go unseen by this one's
   * scheduler (never by the claims, which check Redis). Kept under HOST_DOWN_AFTER_MS.
   */
  HOST_STATE_RESYNC_MS: msSchema.default(2000),
  /** Nova's host_subset_size. */
  SCHEDULER_HOST_SUBSET_SIZE: z.coerce.number().int().min(1).default(1),
  /**
   * Schedule+claim rounds before giving up on claim conflicts (Nova's max_attempts spirit). A
   * conflict means another replica consumed capacity, and a round whose fresh snapshot has no valid
   * host ends in NoValidHost at once, so a generous bound costs nothing when the cloud is full.
   */
  SCHEDULER_CLAIM_ROUNDS: z.coerce.number().int().min(1).default(20),
  /**
   * Nova's [scheduler] max_attempts: a first build whose host's agent refuses it (the host cannot hold
   * it after all, e.g. resources still held by a VM migrating off) is rescheduled on another host,
   * up to this many hosts in all; then the server goes to ERROR naming the last refusal.
   */
  SCHEDULER_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  /** Check and reserve instances/cores/ram_mb quota in identity (off only for tests without identity). */
  QUOTAS_ENABLED: flag(true),
  /**
   * How long a create may hold a client token before writing its servers; after it, a retry with the
   * same token takes the holder for dead and creates them (default 30 s, above the clients' deadline).
   */
  CLIENT_TOKEN_LEASE_SECONDS: z.coerce.number().int().min(1).default(30),
  /** Nova's quota key_pairs: most SSH key pairs one user may hold (Nova's default 100). */
  KEY_PAIRS_QUOTA: z.coerce.number().int().min(0).default(100),
  /** Nova's allow_resize_to_same_host (Nova defaults to false; a one-host cloud needs true). */
  ALLOW_RESIZE_TO_SAME_HOST: flag(true),
  /** Deadline of controller -> agent commands. */
  AGENT_DEADLINE_MS: msSchema.default(10_000),
  // ---- metadata API (apps/controller/src/metadata; Nova's nova-api-metadata) ----
  /** Port of the metadata API listener (0: any free port); unset: no metadata API in this process. */
  METADATA_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address the metadata API binds (loopback: its callers are the agents on this machine). */
  METADATA_HOST: z.string().min(1).default('127.0.0.1'),
  /** Nova's metadata_proxy_shared_secret: the agents sign X-Instance-ID with it; required with METADATA_PORT. */
  METADATA_PROXY_SHARED_SECRET: z.string().min(16).optional(),
  /** Lifetime of the instance identity credential vendor_data2.json hands out, seconds. */
  METADATA_CREDENTIAL_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  // ---- live migration (handed to the source agent's migrate_out) ----
  /** Mbit/s; 0 = QEMU's 128 MiB/s capped at the NIC. */
  MIGRATION_MAX_BANDWIDTH_MBPS: z.coerce.number().int().min(0).default(0),
  /** 0 = QEMU's 300 ms. */
  MIGRATION_MAX_DOWNTIME_MS: z.coerce.number().int().min(0).default(0),
  /** 0 = Nova's 800 s per GiB of RAM. */
  MIGRATION_TIMEOUT_SECONDS: z.coerce.number().int().min(0).default(0),
  MIGRATION_AUTO_CONVERGE: flag(true),
  /** Nova's live_migration_permit_post_copy (default false): a forced completion may switch to post-copy. */
  MIGRATION_PERMIT_POST_COPY: flag(false),
  /** Nova's live_migration_timeout_action at MIGRATION_TIMEOUT_SECONDS: abort (default) or force_complete. */
  MIGRATION_TIMEOUT_ACTION: z.enum(['abort', 'force_complete']).default('abort'),
  // ---- HA (apps/controller/src/ha) ----
  /** Leader restarts VMs of failed hosts (fencing + evacuation). */
  HA_ENABLED: flag(true),
  /** Heartbeat silence after which an up host is suspect (default HOST_DOWN_AFTER_MS / 2). */
  HOST_SUSPECT_AFTER_MS: msSchema.optional(),
  /** Silence allowed after a registration before the first heartbeat (vSphere's longer grace for a new host). */
  NEW_HOST_GRACE_MS: msSchema.default(10_000),
  /** Admission control: host failures whose VMs must still fit (vSphere "host failures cluster tolerates"); 0 = off. */
  HA_HOST_FAILURES_TO_TOLERATE: z.coerce.number().int().min(0).default(1),
  /** Per-zone restart rate limit (token bucket). */
  HA_RESTARTS_PER_ZONE_PER_SECOND: z.coerce.number().positive().default(20),
  HA_RESTART_BURST: z.coerce.number().int().min(1).default(40),
  /** FT checkpoint interval handed to primaries, ms (Remus's 25 ms, NSDI 2008; 5..1000). */
  FT_EPOCH_MS: z.coerce.number().int().min(5).max(1000).default(25),
  // ---- power sync (agent/power-sync.ts: records vs the VMs each agent holds) ----
  /**
   * Nova's resume_guests_state_on_host_boot: a guest that was running and that its host no longer
   * holds (the agent restarted) is started again there from its record. Off (Nova's default): the
   * instance is left stopped (vm_state stopped, power_state nostate) for its owner to start.
   */
  RESUME_GUESTS_STATE_ON_HOST_BOOT: flag(false),
  /**
   * How often the leader compares each host's latest heartbeat inventory with the records (a host
   * that disagrees is synced against its agent's ListInstances). A registration syncs at once.
   * Nova's sync_power_state_interval is 600 s; ours is cheap (heartbeats are already in memory).
   */
  POWER_SYNC_INTERVAL_MS: msSchema.default(10_000),
  // ---- consolidation: DRS/DPM (apps/controller/src/consolidation) ----
  /** Leader runs the DRS/DPM loop (overload/underload detection, live migrations, standby). */
  CONSOLIDATION_ENABLED: flag(false),
  /** `<thr|iqr|mad|lr|lrr>-<mmt|mu|rs|mc>-<param>` (Beloglazov & Buyya 2012), e.g. lr-mmt-1.2, thr-mmt-0.8, mad-mc-2.5. */
  CONSOLIDATION_POLICY: z.string().default('lr-mmt-1.2'),
  /** Round period in simulated ms (CloudSim's 300 s); the loop runs every CONSOLIDATION_INTERVAL_MS / TIME_SCALE of wall time. */
  CONSOLIDATION_INTERVAL_MS: msSchema.default(300_000),
  /** Live migrations in flight at once (all causes) the loop fills up to. */
  CONSOLIDATION_MAX_CONCURRENT_MIGRATIONS: z.coerce.number().int().min(1).default(8),
  /** DPM: put empty hosts in standby and wake them when capacity is needed (with CONSOLIDATION_ENABLED). */
  DPM_ENABLED: flag(true),
  /** DPM keeps at least this many hosts powered on. */
  DPM_MIN_ACTIVE_HOSTS: z.coerce.number().int().min(0).default(1),
  /** Simulated-time speed-up of the agents (the same TIME_SCALE they get); scales the consolidation period. */
  TIME_SCALE: z.coerce.number().positive().default(1),
});

export type ControllerConfig = z.infer<typeof controllerConfigSchema>;
