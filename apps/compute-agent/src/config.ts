import { z } from 'zod';
import { commonConfigShape, msSchema } from '@minicloud/platform-config';
import { GUEST_SSHD_START_UPTIME_MS } from '@minicloud/domain-guest';

/**
 * Environment of the compute agent (one process = one rack of AGENT_HOSTS simulated hosts).
 * - HOST_ID: base host id (default `host-<hostname>-<pid>`); with AGENT_HOSTS > 1 hosts are `<HOST_ID>-<i>`.
 * - HOST_PROFILE (catalog name, or a comma-separated list the rack's hosts rotate through, e.g.
 *   "hp-proliant-ml110-g4,hp-proliant-ml110-g5" for CloudSim's setup) wins over HOST_PROFILE_INDEX (pickProfile round-robin index; host i gets index+i).
 * - TUNNEL_IP: VTEP address; when unset and AGENT_HOSTS > 1, host i gets loopback 127.0.1.<i+1>.
 * - CONTROLLER_URL: host:port of the HostRegistryService; default: the catalog's `compute` endpoint.
 * - AGENT_STATE_DIR: parent of the per-host image cache dirs (default os.tmpdir()/minicloud/agent).
 * - BOOT_TIME_MS: guest boot time (simulated ms); TIME_SCALE: simulated time speed-up (models only;
 *   heartbeats and the Redis lease run on wall-clock time, as the controller's failure detector does).
 * - IMAGE_CACHE_MB: capacity of each host's image cache (MiB).
 * - AGENT_METRICS_MAX_INSTANCES: cap of per-instance metric series per host (label cardinality).
 * - MODEL_TICK_MS: simulated ms between model ticks (CPU/memory/disk/vNIC models of every VM);
 *   MODEL_TICK_MIN_WALL_MS: real ms between ticks at least (a tick then covers TIME_SCALE x this).
 * - TRACE_DIR: the only directory workload traces are read from: `trace:<day>/<file>` (or
 *   `planetlab:<day>/<file>`) names a file in it, never a path (default ../shared/data/planetlab
 *   beside the repo checkout, the PlanetLab data set the bring-up uses).
 * - MEMORY_SHARE_RATIO: TPS share ratio of VMs booted from the same image (0..1).
 * - ISOLATION_RESPONSE: what a host does when it finds itself isolated (NATS round trips failing for
 *   ISOLATION_AFTER_MS while its Redis lease renews, and the HA leader sees other hosts up): `power_off`
 *   (default, hard power-off), `shutdown` (guest shutdown, GUEST_SHUTDOWN_MS of simulated guest time,
 *   powered off hard after ISOLATION_SHUTDOWN_TIMEOUT_MS, vSphere's default 300 s) or `leave_running`.
 *   See apps/controller/src/ha/README.md.
 * - METADATA_URL: base URL of the metadata API (the controller's METADATA_PORT listener), or a
 *   comma-separated list, one per controller replica, tried in turn when one is down; the agent
 *   plays Neutron's metadata proxy for its guests' cloud-init, signing each request with
 *   METADATA_PROXY_SHARED_SECRET. Either unset: cloud-init logs the metadata service as unreachable
 *   and boots from the config drive (the spawn command's data).
 * - GUEST_SSH: `on` (default): each running guest with a floating IP answers SSH on that address, as
 *   a DVR compute node serves its ports' floating IPs (the address must be on this machine: the
 *   bring-up's external network is in 127.0.0.0/8); `off`: no guest answers.
 *   GUEST_SSH_PORT: the guests' sshd port (22; binding it needs root or CAP_NET_BIND_SERVICE; 0 picks
 *   a free port per guest, for tests). GUEST_SSHD_START_MS: a guest's uptime before its sshd listens
 *   (GUEST_SSHD_START_UPTIME_MS of libs/domain/guest; its port refuses while it boots and after each reboot).
 */
export const agentConfigShape = {
  ...commonConfigShape,
  HOST_ID: z.string().min(1).optional(),
  HOST_PROFILE: z.string().min(1).optional(),
  HOST_PROFILE_INDEX: z.coerce.number().int().min(0).default(0),
  AGENT_HOSTS: z.coerce.number().int().min(1).max(1000).default(1),
  AVAILABILITY_ZONE: z.string().min(1).default('nova'),
  TUNNEL_IP: z.string().min(1).optional(),
  CONTROLLER_URL: z.string().min(1).optional(),
  AGENT_STATE_DIR: z.string().min(1).optional(),
  BOOT_TIME_MS: msSchema.default(300),
  TIME_SCALE: z.coerce.number().positive().default(1),
  IMAGE_CACHE_MB: z.coerce.number().int().min(1).default(10240),
  AGENT_METRICS_MAX_INSTANCES: z.coerce.number().int().min(0).default(200),
  MODEL_TICK_MS: msSchema.default(1000),
  MODEL_TICK_MIN_WALL_MS: msSchema.default(100),
  TRACE_DIR: z.string().min(1).optional(),
  MEMORY_SHARE_RATIO: z.coerce.number().min(0).max(1).default(0.1),
  ISOLATION_RESPONSE: z.enum(['power_off', 'shutdown', 'leave_running']).default('power_off'),
  ISOLATION_AFTER_MS: msSchema.default(5000),
  ISOLATION_SHUTDOWN_TIMEOUT_MS: msSchema.default(300_000),
  GUEST_SHUTDOWN_MS: msSchema.default(1000),
  METADATA_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const urls = (v ?? '').split(',').map((u) => u.trim()).filter(Boolean);
      for (const u of urls) if (!z.string().url().safeParse(u).success) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a URL: ${u}` });
      return urls.length ? urls : undefined;
    }),
  METADATA_PROXY_SHARED_SECRET: z.string().min(16).optional(),
  GUEST_SSH: z.enum(['on', 'off']).default('on'),
  GUEST_SSH_PORT: z.coerce.number().int().min(0).max(65535).default(22),
  GUEST_SSHD_START_MS: z.coerce.number().int().min(0).max(600_000).default(GUEST_SSHD_START_UPTIME_MS),
};

export const agentConfigSchema = z.object(agentConfigShape);
export type AgentConfig = z.infer<typeof agentConfigSchema>;
