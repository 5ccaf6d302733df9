import { agent } from '@minicloud/proto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { service, type ServiceRegistration } from '@minicloud/platform-grpc';
import type { HostProfile } from '@minicloud/domain-hypervisor';
import { isMigrationCommand } from '../host-command';
import type { SimulatedHost } from '../simulated-host';
import type { LiveMigrations } from '../migration/live-migrations';
import { toHostCommand, toProtoRuntime, toProtoUsage, toVmSpec } from './mapping';
import { runtimesOf } from '../inventory';
import type { FaultTolerance } from '../ft/fault-tolerance';
import type { VmRuntime } from '../vm-runtime';

/** HostProfile -> agent.v1.HostProfile, with the rack's zone and id. */
export function toProtoProfile(p: HostProfile, extra: { hostname: string; availabilityZone: string; rackId: string }): agent.HostProfile {
  return agent.HostProfile.fromPartial({
    hostId: p.hostId, hostname: extra.hostname, sockets: p.sockets, coresPerSocket: p.coresPerSocket, threadsPerCore: p.threadsPerCore,
    cpuMhz: p.cpuMhz, ramMb: p.ramMb, diskGb: p.diskGb, nicGbps: p.nicGbps, cpuModel: p.cpuModel, cpuFlags: [...p.cpuFlags],
    numaNodes: p.numaNodes, powerModel: { name: p.powerModel.name, wattsAtLoadDecile: [...p.powerModel.wattsAtLoadDecile] },
    hypervisorType: p.hypervisorType, architecture: p.architecture, availabilityZone: extra.availabilityZone, rackId: extra.rackId,
  });
}

/**
 * The HypervisorService of one agent process: every call names its host (`host_id`). Admin only (the
 * controller calls with its service token).
 * GetConsoleOutput answers the tail of a VM's console (SimulatedHost.consoleOutput); the
 * set_admin_password command sets a running guest's root password (SimulatedHost.setAdminPassword).
 * @throws NotFoundError ("host") for a host this process does not run; see SimulatedHost.execute.
 */
export function hypervisorService(
  hosts: ReadonlyMap<string, SimulatedHost>,
  profileExtra: (host: SimulatedHost) => { hostname: string; availabilityZone: string; rackId: string },
  opts: { traceDir?: string; migrations?: LiveMigrations; ft?: FaultTolerance } = {},
): ServiceRegistration {
  const hostOf = (hostId: string) => {
    if (!hostId) throw new InvalidArgumentError('host_id', 'must not be empty');
    const h = hosts.get(hostId);
    if (!h) throw new NotFoundError('host', hostId);
    return h;
  };
  return service({
    definition: agent.HypervisorServiceService,
    handlers: {
      executeCommand: async (req) => {
        const host = hostOf(req.hostId);
        if (!req.instanceId) throw new InvalidArgumentError('instance_id', 'must not be empty');
        if (req.setAdminPassword) {
          if (!req.setAdminPassword.adminPass) throw new InvalidArgumentError('set_admin_password.admin_pass', 'must not be empty');
          return { instance: toProtoRuntime(host.setAdminPassword(Number(req.epoch), req.instanceId, req.setAdminPassword.adminPass)) };
        }
        if (req.ftPrepareSecondary || req.ftStartPrimary || req.ftPromote || req.ftStop) {
          const ft = opts.ft;
          if (!ft) throw new FailedPreconditionError('fault tolerance is not implemented by this agent', 'not_implemented');
          host.assertEpoch(Number(req.epoch));
          host.assertNotIsolated();
          const withRole = (rt: VmRuntime | undefined) => {
            if (!rt) return {};
            return { instance: { ...toProtoRuntime(rt), ...ftFields(ft, host, rt.instanceId), migrating: host.migrationOf(rt.instanceId) !== undefined } };
          };
          if (req.ftPrepareSecondary) {
            if (!req.ftPrepareSecondary.spec) throw new InvalidArgumentError('ft_prepare_secondary.spec', 'is required');
            return withRole(ft.prepareSecondary(host, Number(req.ftPrepareSecondary.ftGeneration), toVmSpec(req.instanceId, req.ftPrepareSecondary.spec, opts.traceDir)));
          }
          if (req.ftStartPrimary) {
            const p = req.ftStartPrimary;
            return withRole(await ft.startPrimary(host, req.instanceId, {
              generation: Number(p.ftGeneration), secondaryHostId: p.secondaryHostId, secondaryEndpoint: p.secondaryEndpoint, secondaryEpoch: Number(p.secondaryEpoch),
              epochMs: p.epochMs, secondaryNicGbps: p.secondaryNicGbps, maxBandwidthMbps: Number(p.maxBandwidthMbps),
            }));
          }
          if (req.ftPromote) return withRole(ft.promote(host, req.instanceId, Number(req.ftPromote.ftGeneration)));
          return withRole(await ft.stop(host, req.instanceId, Number(req.ftStop!.ftGeneration)));
        }
        const cmd = toHostCommand(req, opts.traceDir);
        if (!isMigrationCommand(cmd)) return { instance: toProtoRuntime(host.execute(req.epoch, req.instanceId, cmd, req.requestId)) };
        const m = opts.migrations;
        if (!m) throw new FailedPreconditionError('live migration is not implemented by this agent', 'not_implemented');
        host.assertEpoch(Number(req.epoch));
        host.assertNotIsolated();
        const runtime =
          cmd.type === 'prepare_migrate_in'
            ? m.prepareIn(host, cmd.migrationId, cmd.spec)
            : cmd.type === 'migrate_out'
              ? m.migrateOut(host, req.instanceId, cmd.params)
              : cmd.type === 'abort_migration'
                ? m.abort(host, req.instanceId, cmd.migrationId)
                : m.forceComplete(host, req.instanceId, cmd.migrationId);
        return { instance: runtime && toProtoRuntime(runtime) };
      },
      getHostStatus: async (req) => {
        const host = hostOf(req.hostId);
        return {
          profile: toProtoProfile(host.profile, profileExtra(host)),
          epoch: host.epoch,
          usage: toProtoUsage(host.usage()),
          cachedImageIds: host.cachedImageIds(),
        };
      },
      listInstances: async (req) => {
        const host = hostOf(req.hostId);
        const ft = opts.ft;
        return { instances: runtimesOf(host).map((rt) => (ft ? { ...rt, ...ftFields(ft, host, rt.instanceId) } : rt)), epoch: host.epoch };
      },
      getConsoleOutput: async (req) => {
        const host = hostOf(req.hostId);
        if (!req.instanceId) throw new InvalidArgumentError('instance_id', 'must not be empty');
        if (req.length !== undefined && req.length < -1) throw new InvalidArgumentError('length', `must be -1 or more, got ${req.length}`);
        return { output: host.consoleOutput(req.instanceId, req.length) };
      },
      setHostPower: async (req) => ({ usage: toProtoUsage(hostOf(req.hostId).setStandby(Number(req.epoch), req.standby)) }),
    },
  });
}

/** InstanceRuntime's FT fields for a VM of `host`. */
function ftFields(ft: FaultTolerance, host: SimulatedHost, instanceId: string): Pick<agent.InstanceRuntime, 'ftRole' | 'ftGeneration' | 'ftAckedCheckpoint' | 'ftStreamLost'> {
  const r = ft.roleOf(host, instanceId);
  return { ftRole: r.role, ftGeneration: r.generation, ftAckedCheckpoint: r.ackedCheckpoint, ftStreamLost: r.streamLost };
}
