import { AlreadyExistsError, FailedPreconditionError, NotFoundError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { agent, compute, events } from '@minicloud/proto';
import { heartbeatSubject, powerStateReportedSubject, type Bus } from '@minicloud/platform-bus';
import { startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';

/** Handlers for the methods a fake implements; every other method answers FAILED_PRECONDITION ("fake: <method> not faked"). */
export const partial = <T extends object>(impl: Partial<T>): T =>
  new Proxy(impl, {
    get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (async () => Promise.reject(new FailedPreconditionError(`fake: ${String(k)} not faked`))),
  }) as T;

/** Hardware a {@link FakeHypervisor} registers: cores (1 socket, 1 thread per core), RAM in MB, disk in GB; its zone (default none). */
export interface FakeHypervisorProfile {
  cores: number;
  ramMb: number;
  diskGb: number;
  availabilityZone?: string;
}

/** One VM of a {@link FakeHypervisor}: its power state, the spec it was spawned from, its attached volumes and its vNICs by port id. */
export interface FakeVm {
  powerState: compute.PowerState;
  spec?: agent.InstanceSpec;
  volumes: Map<string, agent.VolumeRef>;
  interfaces: Map<string, agent.PortBinding>;
}

const P = compute.PowerState;

/** Power commands and the (power state, report reason) each leads to, as the real agent reports them. */
const POWER: [keyof agent.ExecuteCommandRequest, compute.PowerState, string][] = [
  ['powerOff', P.POWER_STATE_SHUTDOWN, 'powered_off'],
  ['powerOn', P.POWER_STATE_RUNNING, 'powered_on'],
  ['reboot', P.POWER_STATE_RUNNING, 'rebooted'],
  ['pause', P.POWER_STATE_PAUSED, 'paused'],
  ['unpause', P.POWER_STATE_RUNNING, 'unpaused'],
  ['suspend', P.POWER_STATE_SUSPENDED, 'suspended'],
  ['resume', P.POWER_STATE_RUNNING, 'resumed'],
];

/**
 * The one test double of a compute agent (test code only; production code never imports it): serves
 * HypervisorService on a free port, registers with the controller (qemu, x86_64, tunnel 192.0.2.1),
 * heartbeats on core NATS every 300 ms and publishes power-state reports after each command, as
 * docs/agent-protocol.md describes. It keeps its own accounting and is the judge of overcommit: a
 * spawn that does not fit its RAM is refused with RESOURCE_EXHAUSTED host_ram_exhausted.
 * Commands: spawn (a spec whose name contains `failme` reports spawn_failed), destroy, the power
 * commands, attach/detach volume (ids in {@link failAttach} fail; a repeated attach is
 * ALREADY_EXISTS), attach/detach interface (a port or network id in {@link failInterfaceAttach} fails;
 * a repeated attach is ALREADY_EXISTS; a VM neither running nor shut down is refused, as the agent's
 * state machine does; detaching an absent vNIC is NOT_FOUND interface_attachment); a wrong host id is NOT_FOUND host, a wrong epoch FAILED_PRECONDITION stale_epoch,
 * an unknown VM NOT_FOUND instance; set_admin_password succeeds on a running VM only. Every command is recorded in {@link commands}.
 */
export class FakeHypervisor {
  /** The epoch the controller granted at registration (commands with another epoch are stale). */
  epoch = 0;
  /** Sequence shared by heartbeats and reports. */
  seq = 0;
  server!: RunningGrpcServer;
  readonly vms = new Map<string, FakeVm>();
  /** Volume ids whose attach fails (FAILED_PRECONDITION). */
  readonly failAttach = new Set<string>();
  /** Port or network ids whose interface attach fails (FAILED_PRECONDITION), as a hypervisor refusing the hot-plug. */
  readonly failInterfaceAttach = new Set<string>();
  /** Every ExecuteCommand received, in order. */
  readonly commands: agent.ExecuteCommandRequest[] = [];
  /** FT standby copies defined here (ft_prepare_secondary), by instance id -> FT generation. */
  readonly ftStandby = new Map<string, number>();
  /** FT primaries here whose checkpoint stream a test broke: instance id -> FT generation (ListInstances' ft_stream_lost). */
  readonly ftStreamLost = new Map<string, number>();
  /** Spawns refused for lack of RAM. */
  refusedSpawns = 0;
  private timer?: NodeJS.Timeout;
  private registry?: ServiceClient<typeof agent.HostRegistryServiceService>;

  constructor(
    readonly hostId: string,
    private readonly bus: Bus,
    readonly profile: FakeHypervisorProfile,
    /** Delay of the power-state reports after a command (ms). */
    private readonly reportDelayMs = 20,
  ) {}

  /** vCPUs, MB of RAM and VMs in use by the VMs defined here. */
  used(): { vcpus: number; ramMb: number; count: number } {
    let vcpus = 0;
    let ramMb = 0;
    for (const vm of this.vms.values()) {
      vcpus += vm.spec?.flavor?.vcpus ?? 0;
      ramMb += vm.spec?.flavor?.ramMb ?? 0;
    }
    return { vcpus, ramMb, count: this.vms.size };
  }

  /** Volumes attached to `instanceId` here. */
  volumesOf(instanceId: string): agent.VolumeRef[] {
    return [...(this.vms.get(instanceId)?.volumes.values() ?? [])];
  }

  /** Port ids of the vNICs of `instanceId` here (spawned with or hot-plugged). */
  interfacesOf(instanceId: string): string[] {
    return [...(this.vms.get(instanceId)?.interfaces.keys() ?? [])];
  }

  /** Serves, registers through `registry`, takes the epoch and starts heartbeating; returns the registration answer. */
  async start(registry: ServiceClient<typeof agent.HostRegistryServiceService>): Promise<agent.RegisterHostResponse> {
    this.server = await startGrpcServer({
      port: 0,
      logger: silentLogger(),
      services: [{ definition: agent.HypervisorServiceService as never, handlers: partial<Record<string, unknown>>(this.handlers()) } as never],
    });
    this.registry = registry;
    const res = await this.register();
    const beat = () => this.bus.publishCore(heartbeatSubject(this.hostId), events.Heartbeat, { hostId: this.hostId, epoch: this.epoch, sequence: ++this.seq, ...this.heartbeatExtra() });
    beat();
    this.timer = setInterval(beat, 300);
    return res;
  }

  /** Registers again (a new epoch) holding the VMs defined now, as a restarted agent process does; drops those the controller names. */
  async restart(): Promise<agent.RegisterHostResponse> {
    return this.register();
  }

  /** More fields of every heartbeat (e.g. a VM inventory); none by default. */
  protected heartbeatExtra(): Record<string, unknown> {
    return {};
  }

  private async register(): Promise<agent.RegisterHostResponse> {
    const p = this.profile;
    const res = await this.registry!.registerHost({
      profile: { hostId: this.hostId, hostname: this.hostId, sockets: 1, coresPerSocket: p.cores, threadsPerCore: 1, ramMb: p.ramMb, diskGb: p.diskGb, hypervisorType: 'qemu', architecture: 'x86_64', availabilityZone: p.availabilityZone ?? '' },
      agentEndpoint: this.server.address,
      tunnelIp: '192.0.2.1',
      instances: [...this.vms].map(([instanceId, vm]) => ({ instanceId, hostId: this.hostId, powerState: vm.powerState })),
    });
    this.epoch = res.epoch;
    for (const id of res.destroyInstanceIds) this.vms.delete(id);
    return res;
  }

  /** Stops heartbeating and serving (a host failure, as the controller sees it). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.server?.shutdown(100);
  }

  /** Publishes InstancePowerStateReported for `instanceId` after the report delay (as an agent reports after acting). */
  report(instanceId: string, powerState: compute.PowerState, reason: string, error = ''): void {
    setTimeout(() => {
      // A command answered while the test closes reports after the bus is gone: nobody listens then.
      this.bus.publishEvent(powerStateReportedSubject(this.hostId), events.InstancePowerStateReported, { instanceId, hostId: this.hostId, epoch: this.epoch, powerState, reason, error, sequence: ++this.seq }).catch(() => undefined);
    }, this.reportDelayMs);
  }

  private runtime(id: string, vm: FakeVm | undefined, powerState = vm?.powerState ?? P.POWER_STATE_NOSTATE): agent.ExecuteCommandResponse {
    return agent.ExecuteCommandResponse.fromPartial({ instance: { instanceId: id, hostId: this.hostId, powerState, volumeIds: [...(vm?.volumes.keys() ?? [])], portIds: [...(vm?.interfaces.keys() ?? [])] } });
  }

  private execute(req: agent.ExecuteCommandRequest): agent.ExecuteCommandResponse {
    this.commands.push(req);
    if (req.hostId && req.hostId !== this.hostId) throw new NotFoundError('host', req.hostId);
    if (req.epoch !== this.epoch) throw new FailedPreconditionError('stale epoch', 'stale_epoch');
    const id = req.instanceId;
    if (req.spawn) return this.spawn(id, req.spawn.spec);
    if (req.destroy) {
      this.vms.delete(id);
      return {};
    }
    // Fault tolerance: a standby copy is only remembered; the primary "synchronises" at once.
    if (req.ftPrepareSecondary) {
      this.ftStandby.set(id, Number(req.ftPrepareSecondary.ftGeneration));
      return agent.ExecuteCommandResponse.fromPartial({ instance: { instanceId: id, hostId: this.hostId, powerState: P.POWER_STATE_PAUSED, migrating: true, ftRole: 'secondary' } });
    }
    if (req.ftStop) {
      this.ftStandby.delete(id);
      this.ftStreamLost.delete(id);
      return this.runtime(id, this.vms.get(id));
    }
    const vm = this.vms.get(id);
    if (!vm) throw new NotFoundError('instance', id);
    if (req.ftStartPrimary) return this.runtime(id, vm);
    const power = POWER.find(([k]) => req[k] !== undefined);
    if (power) {
      vm.powerState = power[1];
      this.report(id, power[1], power[2]);
      return this.runtime(id, vm);
    }
    if (req.attachVolume) {
      const ref = req.attachVolume.volume!;
      if (this.failAttach.has(ref.volumeId)) throw new FailedPreconditionError('fake agent: attach failed');
      if (vm.volumes.has(ref.volumeId)) throw new AlreadyExistsError('volume_attachment', `${id}/${ref.volumeId}`);
      vm.volumes.set(ref.volumeId, ref);
      return this.runtime(id, vm);
    }
    if (req.detachVolume) {
      vm.volumes.delete(req.detachVolume.volumeId);
      return this.runtime(id, vm);
    }
    if (req.attachInterface) {
      const port = req.attachInterface.port!;
      if (this.failInterfaceAttach.has(port.portId) || this.failInterfaceAttach.has(port.networkId)) throw new FailedPreconditionError('fake agent: interface attach failed');
      if (vm.powerState !== P.POWER_STATE_RUNNING && vm.powerState !== P.POWER_STATE_SHUTDOWN) throw new FailedPreconditionError(`cannot attach_interface in power state ${vm.powerState}`, 'invalid_vm_transition');
      if (vm.interfaces.has(port.portId)) throw new AlreadyExistsError('interface_attachment', `${id}/${port.portId}`);
      vm.interfaces.set(port.portId, port);
      return this.runtime(id, vm);
    }
    if (req.detachInterface) {
      if (!vm.interfaces.delete(req.detachInterface.portId)) throw new NotFoundError('interface_attachment', `${id}/${req.detachInterface.portId}`);
      return this.runtime(id, vm);
    }
    if (req.setAdminPassword) {
      if (vm.powerState !== P.POWER_STATE_RUNNING) throw new FailedPreconditionError(`instance ${id} is not running`, 'instance_not_running');
      return this.runtime(id, vm);
    }
    if (req.snapshot) return this.runtime(id, vm); // the disk's bytes are the base image's: nothing to write here
    throw new FailedPreconditionError('fake agent: command not supported');
  }

  private spawn(id: string, spec: agent.InstanceSpec | undefined): agent.ExecuteCommandResponse {
    if (this.vms.has(id)) return this.runtime(id, this.vms.get(id), P.POWER_STATE_NOSTATE);
    const ramMb = spec?.flavor?.ramMb ?? 0;
    if (this.used().ramMb + ramMb > this.profile.ramMb) {
      this.refusedSpawns++;
      throw new ResourceExhaustedError(`host ${this.hostId} out of RAM`, 'host_ram_exhausted');
    }
    const vm: FakeVm = {
      powerState: P.POWER_STATE_NOSTATE,
      spec,
      volumes: new Map((spec?.volumes ?? []).map((v) => [v.volumeId, v])),
      interfaces: new Map((spec?.ports ?? []).map((p) => [p.portId, p])),
    };
    this.vms.set(id, vm);
    if (spec?.name.includes('failme')) this.report(id, P.POWER_STATE_NOSTATE, 'spawn_failed', 'image checksum mismatch');
    else {
      vm.powerState = P.POWER_STATE_RUNNING;
      this.report(id, P.POWER_STATE_RUNNING, 'spawned');
    }
    return this.runtime(id, vm, P.POWER_STATE_NOSTATE);
  }

  /** HypervisorService handlers by method name (a subclass may add or replace some). */
  protected handlers(): Record<string, unknown> {
    return {
      executeCommand: async (req: agent.ExecuteCommandRequest) => this.execute(req),
      // A one-line console naming what the spawn carried (the real guest model is GuestConsoles).
      getConsoleOutput: async (req: agent.GetConsoleOutputRequest) => {
        const vm = this.vms.get(req.instanceId);
        if (!vm) throw new NotFoundError('instance', req.instanceId);
        return { output: `fake console of ${vm.spec?.name ?? req.instanceId}: user_data ${vm.spec?.userData.length ?? 0} characters, key ${vm.spec?.keyName || '-'}\n` };
      },
      listInstances: async () => ({
        epoch: this.epoch,
        instances: [...this.vms].map(([instanceId, vm]) => ({
          instanceId, hostId: this.hostId, powerState: vm.powerState, volumeIds: [...vm.volumes.keys()], epoch: this.epoch,
          ...(this.ftStreamLost.has(instanceId) ? { ftRole: 'primary', ftGeneration: this.ftStreamLost.get(instanceId), ftStreamLost: true } : {}),
        })),
      }),
    };
  }
}
