import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { agent, events } from '@minicloud/proto';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import { assertActsForHost } from '@minicloud/platform-auth';
import { service, type ServiceRegistration } from '@minicloud/platform-grpc';
import type { ControllerConfig } from '../config';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { HostMonitor } from './host-monitor';
import type { PowerSync } from './power-sync';

/**
 * minicloud.agent.v1.HostRegistryService (policy `agent`: admin, or a compute agent for the hosts
 * bound to its account, else PERMISSION_DENIED before any change). RegisterHost bumps the
 * host's epoch, stores profile, endpoint and inventory (vcpus = sockets * cores * threads, allocation
 * ratios from config), returns the timings and `destroy_instance_ids`: instances the agent holds that
 * the controller does not place on this host. Then the host's power sync runs (agent/power-sync.ts,
 * Nova's sync_power_states at init_host): reports of the old epoch are ignored, so it reads the
 * agent's VMs afresh; a VM the agent powered off by itself (self-fencing, isolation response) is known
 * to be off and the HA loop powers it on again (ha-manager.ts powerOnRejoined); instances recorded
 * here that the agent no longer holds are stopped (or started again, resume_guests_state_on_host_boot).
 */
export function hostRegistryService(d: {
  config: Pick<ControllerConfig, 'CPU_ALLOCATION_RATIO' | 'RAM_ALLOCATION_RATIO' | 'DISK_ALLOCATION_RATIO' | 'RESERVED_HOST_MEMORY_MB' | 'HEARTBEAT_INTERVAL_MS' | 'LEASE_TTL_MS' | 'SELF_FENCE_AFTER_MS'>;
  hosts: HostStore;
  instances: InstanceStore;
  monitor: HostMonitor;
  powerSync: Pick<PowerSync, 'hostRegistered'>;
  bus: Bus;
  nowMs: () => number;
}): ServiceRegistration {
  return service({
    definition: agent.HostRegistryServiceService,
    handlers: {
      async registerHost(req, ctx) {
        const p = req.profile;
        if (!p || !p.hostId) throw new InvalidArgumentError('profile.host_id', 'is required');
        // A compute agent registers only the hosts bound to its account (before anything is read or bumped).
        assertActsForHost(ctx.auth, p.hostId, 'profile.host_id');
        if (!req.agentEndpoint) throw new InvalidArgumentError('agent_endpoint', 'is required');
        const vcpus = Math.max(1, p.sockets || 1) * Math.max(1, p.coresPerSocket || 1) * Math.max(1, p.threadsPerCore || 1);
        if (p.ramMb <= 0) throw new InvalidArgumentError('profile.ram_mb', `must be > 0, got ${p.ramMb}`);
        if (p.diskGb < 0) throw new InvalidArgumentError('profile.disk_gb', `must be >= 0, got ${p.diskGb}`);
        checkCpuFlags(p.cpuFlags);
        const epoch = await d.hosts.register({
          hostId: p.hostId,
          profile: {
            hostname: p.hostname || p.hostId,
            sockets: p.sockets,
            coresPerSocket: p.coresPerSocket,
            threadsPerCore: p.threadsPerCore,
            cpuMhz: p.cpuMhz,
            ramMb: p.ramMb,
            diskGb: p.diskGb,
            cpuModel: p.cpuModel,
            cpuFlags: [...p.cpuFlags],
            hypervisorType: p.hypervisorType,
            architecture: p.architecture,
            availabilityZone: p.availabilityZone,
            rackId: p.rackId,
            nicGbps: p.nicGbps,
            powerWattsAtLoadDecile: p.powerModel?.wattsAtLoadDecile ?? [],
          },
          agentEndpoint: req.agentEndpoint,
          tunnelIp: req.tunnelIp,
          vcpusTotal: vcpus,
          ramMbTotal: p.ramMb,
          diskGbTotal: p.diskGb,
          ramMbReserved: d.config.RESERVED_HOST_MEMORY_MB,
          cpuAllocationRatio: d.config.CPU_ALLOCATION_RATIO,
          ramAllocationRatio: d.config.RAM_ALLOCATION_RATIO,
          diskAllocationRatio: d.config.DISK_ALLOCATION_RATIO,
          registeredAtMs: d.nowMs(),
        });
        d.monitor.noteEpoch(p.hostId, epoch);
        const held = req.instances.map((i) => i.instanceId);
        const records = await d.instances.getMany(held);
        const placedHere = new Set(records.filter((r) => r.hostId === p.hostId && r.taskState !== 'deleting').map((r) => r.id));
        const destroy = held.filter((id) => !placedHere.has(id));
        d.powerSync.hostRegistered(p.hostId);
        await d.bus.publishEvent(
          Subjects.hostRegistered,
          events.HostRegistered,
          { meta: { eventId: randomUUID(), occurredAt: new Date(d.nowMs()), source: 'controller', requestId: ctx.requestId }, hostId: p.hostId, epoch, profile: p },
          { requestId: ctx.requestId },
        );
        ctx.logger.info({ host_id: p.hostId, epoch, destroy: destroy.length }, 'host registered');
        return {
          epoch,
          heartbeatIntervalMs: d.config.HEARTBEAT_INTERVAL_MS,
          leaseTtlMs: d.config.LEASE_TTL_MS,
          selfFenceAfterMs: d.config.SELF_FENCE_AFTER_MS,
          destroyInstanceIds: destroy,
        };
      },
    },
  });
}

/** At most this many CPU flags per host, each at most {@link MAX_CPU_FLAG_CHARS} of [a-z0-9_.]: /proc/cpuinfo lists about 150. */
export const MAX_CPU_FLAGS = 512;
const MAX_CPU_FLAG_CHARS = 64;
const CPU_FLAG_RE = /^[a-z0-9_.]+$/;

/** @throws InvalidArgumentError ('profile.cpu_flags') for too many flags or a malformed one */
function checkCpuFlags(flags: readonly string[]): void {
  if (flags.length > MAX_CPU_FLAGS) throw new InvalidArgumentError('profile.cpu_flags', `at most ${MAX_CPU_FLAGS} flags, got ${flags.length}`);
  const bad = flags.find((f) => f.length > MAX_CPU_FLAG_CHARS || !CPU_FLAG_RE.test(f));
  if (bad !== undefined) throw new InvalidArgumentError('profile.cpu_flags', `flag ${JSON.stringify(bad.slice(0, MAX_CPU_FLAG_CHARS))} must be 1..${MAX_CPU_FLAG_CHARS} of [a-z0-9_.]`);
}
