import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NotFoundError } from '@minicloud/domain-errors';
import type { agent } from '@minicloud/proto';
import type { CallOptions, DeepPartial } from '@minicloud/platform-grpc';
import type { HostRecord, HostStore } from '../store/host-store';

/** The host a command goes to: its id, its agent's address and the epoch the controller granted it. */
export type AgentHost = Pick<HostRecord, 'hostId' | 'agentEndpoint' | 'epoch'>;

/** The HypervisorService calls the command client makes (the gRPC client of one agent; a fake in unit tests). */
export interface AgentTransport {
  executeCommand(req: DeepPartial<agent.ExecuteCommandRequest>, opts?: CallOptions): Promise<agent.ExecuteCommandResponse>;
  listInstances(req: DeepPartial<agent.ListInstancesRequest>, opts?: CallOptions): Promise<agent.ListInstancesResponse>;
  setHostPower(req: DeepPartial<agent.SetHostPowerRequest>, opts?: CallOptions): Promise<agent.SetHostPowerResponse>;
  getConsoleOutput(req: DeepPartial<agent.GetConsoleOutputRequest>, opts?: CallOptions): Promise<agent.GetConsoleOutputResponse>;
}

/**
 * The operation a command belongs to. `requestId` is the operation's (the instance action's, a
 * migration's...), `step` the part of it sending the command (a task_state): the command's request id
 * is `<requestId>:<step>:<command>`, so a retried step repeats it (the agent applies a repeated
 * request once) while two steps sending the same command stay distinct. No `requestId`: a fresh id.
 */
export interface CommandScope {
  requestId?: string;
  step?: string | null;
}

/** The scope of a step of an instance's current task: its action's request id and its task_state. */
export function scopeOf(r: { actionRequestId?: string; taskState: string | null }): CommandScope {
  return { requestId: r.actionRequestId, step: r.taskState };
}

/** Power commands of the instance power actions (agent.v1 ExecuteCommandRequest variants without arguments but reboot's `hard`). */
export type PowerCommandName = 'powerOff' | 'powerOn' | 'reboot' | 'pause' | 'unpause' | 'suspend' | 'resume';

/** Knobs of a live migration's `migrate_out` (docs/agent-protocol.md "Live migration"). */
export type MigrateOutParams = Omit<DeepPartial<agent.MigrateOutCommand>, 'migrationId'>;

type Command = Omit<DeepPartial<agent.ExecuteCommandRequest>, 'hostId' | 'epoch' | 'instanceId' | 'requestId'>;

/** Instance id of the command HA sends a fenced agent so that it learns its epoch is stale. */
export const EPOCH_PROBE_INSTANCE_ID = 'ha-epoch-probe';

/** Stores and settings of {@link AgentClient}. */
export interface AgentClientDeps {
  /** Resolves a host id to its endpoint and epoch. */
  hosts: Pick<HostStore, 'find'>;
  /** The client of the agent at `endpoint` (Peers.agent in production). */
  transport: (endpoint: string) => AgentTransport;
  /** Graceful shutdown allowed to a power_off before the agent pulls the plug (seconds). */
  shutdownTimeoutSeconds: number;
  /** Source of fresh request ids (default randomUUID). */
  newRequestId?: () => string;
}

/**
 * The one place controller -> agent commands are built (the role of Nova's compute/rpcapi.py): every
 * HypervisorService call goes through a typed method here, which stamps the host's fencing epoch and
 * the request id (see {@link CommandScope}) once, and maps the answers that mean "already so" (a
 * destroy or detach of something absent, an attach already done) to results instead of errors.
 * A host is given as its record or its id (looked up; NotFoundError('host') when unknown).
 * Other errors come back as the transport's typed minicloud errors (stale_epoch, host_*_exhausted,
 * UNAVAILABLE...).
 */
export class AgentClient {
  constructor(private readonly d: AgentClientDeps) {}

  /** The host's record. @throws NotFoundError('host', id) */
  async host(hostId: string): Promise<HostRecord> {
    const host = hostId ? await this.d.hosts.find(hostId) : undefined;
    if (!host) throw new NotFoundError('host', hostId || '(none)');
    return host;
  }

  /** Defines and starts the VM (idempotent per instance on the agent); the outcome arrives as a `spawned`/`spawn_failed` report. */
  spawn(host: AgentHost | string, instanceId: string, spec: DeepPartial<agent.InstanceSpec>, scope: CommandScope): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { spawn: { spec } }, scope);
  }

  /** Destroys the VM. @returns false when the agent has no such VM (gone counts as done) */
  async destroy(host: AgentHost | string, instanceId: string, scope: CommandScope): Promise<boolean> {
    return ifPresent(this.execute(host, instanceId, { destroy: {} }, scope));
  }

  /**
   * One power command. `hard` only for reboot; power_off gets the configured graceful-shutdown timeout.
   * @returns the agent's runtime after the command
   */
  power(host: AgentHost | string, instanceId: string, command: PowerCommandName, scope: CommandScope, opts: { hard?: boolean } = {}): Promise<agent.ExecuteCommandResponse> {
    const cmd: Command =
      command === 'powerOff' ? { powerOff: { timeoutSeconds: this.d.shutdownTimeoutSeconds } } : command === 'reboot' ? { reboot: { hard: !!opts.hard } } : { [command]: {} };
    return this.execute(host, instanceId, cmd, scope);
  }

  /** power_off when the VM exists. @returns false when the agent has no such VM */
  async powerOffIfPresent(host: AgentHost | string, instanceId: string, scope: CommandScope): Promise<boolean> {
    return ifPresent(this.power(host, instanceId, 'powerOff', scope));
  }

  /** Resizes the VM in place (same-host resize) to `flavor`. */
  resize(host: AgentHost | string, instanceId: string, flavor: DeepPartial<agent.ResizeCommand>['flavor'], scope: CommandScope): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { resize: { flavor } }, scope);
  }

  /** Snapshots the VM's disk into image `imageId`. @returns false when the agent has no such VM */
  async snapshot(host: AgentHost | string, instanceId: string, imageId: string, scope: CommandScope): Promise<boolean> {
    return ifPresent(this.execute(host, instanceId, { snapshot: { imageId } }, scope));
  }

  /** Plugs a volume in; an attach the agent already has is success (its state machine refuses a repeat). */
  async attachVolume(host: AgentHost | string, instanceId: string, volume: DeepPartial<agent.VolumeRef>, scope: CommandScope): Promise<void> {
    try {
      await this.execute(host, instanceId, { attachVolume: { volume } }, scope);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }

  /** Unplugs a volume. @returns false when the agent has no such VM (no disk to unplug) */
  async detachVolume(host: AgentHost | string, instanceId: string, volumeId: string, scope: CommandScope): Promise<boolean> {
    return ifPresent(this.execute(host, instanceId, { detachVolume: { volumeId } }, scope));
  }

  /**
   * Hot-plugs a vNIC for `port` (already bound to the host, so the host's FDB learns it); a vNIC the
   * agent already has is success. @throws NotFoundError('instance') when the agent has no such VM;
   *   FailedPreconditionError when the VM's power state refuses a hot-plug
   */
  async attachInterface(host: AgentHost | string, instanceId: string, port: DeepPartial<agent.PortBinding>, scope: CommandScope): Promise<void> {
    try {
      await this.execute(host, instanceId, { attachInterface: { port } }, scope);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }

  /** Unplugs a vNIC. @returns false when the agent has no such VM or no such vNIC (nothing to unplug) */
  async detachInterface(host: AgentHost | string, instanceId: string, portId: string, scope: CommandScope): Promise<boolean> {
    return ifPresent(this.execute(host, instanceId, { detachInterface: { portId } }, scope));
  }

  /**
   * Sets the running guest's root password (Nova's set_admin_password through the guest agent).
   * @throws FailedPreconditionError from the agent when the VM is not running; NotFoundError('instance') when it has no such VM
   */
  setAdminPassword(host: AgentHost | string, instanceId: string, adminPass: string, scope: CommandScope): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { setAdminPassword: { adminPass } }, scope);
  }

  /** Live migration, destination side: get ready to receive `migrationId`. */
  prepareMigrateIn(host: AgentHost | string, instanceId: string, migrationId: string, spec: DeepPartial<agent.InstanceSpec>): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { prepareMigrateIn: { migrationId, spec } }, { requestId: migrationId });
  }

  /** Live migration, source side: start sending the VM to the destination. */
  migrateOut(host: AgentHost | string, instanceId: string, migrationId: string, params: MigrateOutParams): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { migrateOut: { ...params, migrationId } }, { requestId: migrationId });
  }

  /** Live migration: abort `migrationId` on this host (the source resumes the VM). */
  abortMigration(host: AgentHost | string, instanceId: string, migrationId: string): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { abortMigration: { migrationId } }, { requestId: migrationId });
  }

  /** Live migration, source side: end `migrationId` now (post-copy if permitted, else paused stop-and-copy). */
  forceCompleteMigration(host: AgentHost | string, instanceId: string, migrationId: string): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { forceCompleteMigration: { migrationId } }, { requestId: migrationId });
  }

  /** FT: defines the standby copy of generation `generation` on the secondary's host (docs/fault-tolerance.md). */
  ftPrepareSecondary(host: AgentHost | string, instanceId: string, generation: number, spec: DeepPartial<agent.InstanceSpec>): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { ftPrepareSecondary: { ftGeneration: generation, spec } }, { requestId: `ft-${instanceId}-${generation}` });
  }

  /** FT: starts checkpointing on the primary's host; answers once the secondary acknowledged the initial copy and a first checkpoint. */
  ftStartPrimary(host: AgentHost | string, instanceId: string, params: DeepPartial<agent.FtStartPrimaryCommand>): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { ftStartPrimary: params }, { requestId: `ft-${instanceId}-${params.ftGeneration}` });
  }

  /** FT: the standby copy on `host` goes live as generation `generation`. */
  ftPromote(host: AgentHost | string, instanceId: string, generation: number): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { ftPromote: { ftGeneration: generation } }, { requestId: `ft-${instanceId}-${generation}` });
  }

  /** FT of generation <= `generation` ends on `host` (primary: goes on alone, output released; secondary: discarded). */
  ftStop(host: AgentHost | string, instanceId: string, generation: number): Promise<agent.ExecuteCommandResponse> {
    return this.execute(host, instanceId, { ftStop: { ftGeneration: generation } }, { requestId: `ft-${instanceId}-${generation}` });
  }

  /**
   * A command carrying the host's current epoch to an agent still running on an older one (fenced
   * while frozen or cut off): it answers stale_epoch, then re-registers and destroys what moved away.
   * Errors are the expected answer and are not thrown.
   */
  async probeEpoch(host: AgentHost): Promise<void> {
    await this.execute(host, EPOCH_PROBE_INSTANCE_ID, { destroy: {} }, {}).catch(() => undefined);
  }

  /** The VMs the agent runs. */
  async listInstances(host: AgentHost | string): Promise<agent.InstanceRuntime[]> {
    return (await this.inventory(host)).instances;
  }

  /** The agent's ListInstances answer: its VMs and the epoch it runs on (0 when it does not say). */
  async inventory(host: AgentHost | string): Promise<agent.ListInstancesResponse> {
    const h = await this.resolve(host);
    return this.d.transport(h.agentEndpoint).listInstances({ hostId: h.hostId });
  }

  /**
   * The tail of a VM's serial console (`length` lines; undefined or -1: all kept). Read-only: no epoch.
   * @throws NotFoundError ('instance') when the VM is not on that host
   */
  async getConsoleOutput(host: AgentHost | string, instanceId: string, length?: number): Promise<string> {
    const h = await this.resolve(host);
    return (await this.d.transport(h.agentEndpoint).getConsoleOutput({ hostId: h.hostId, instanceId, length })).output;
  }

  /** DPM: power the host off into standby (refused with FAILED_PRECONDITION host_not_empty while it holds VMs) or back on. */
  async setHostPower(host: AgentHost | string, standby: boolean): Promise<agent.SetHostPowerResponse> {
    const h = await this.resolve(host);
    return this.d.transport(h.agentEndpoint).setHostPower({ hostId: h.hostId, epoch: h.epoch, standby });
  }

  /** The request id a command of `scope` carries (see {@link CommandScope}). */
  requestIdFor(scope: CommandScope, command: string): string {
    if (!scope.requestId) return (this.d.newRequestId ?? randomUUID)();
    return [scope.requestId, scope.step, command].filter(Boolean).join(':');
  }

  private async execute(host: AgentHost | string, instanceId: string, command: Command, scope: CommandScope): Promise<agent.ExecuteCommandResponse> {
    const h = await this.resolve(host);
    const name = Object.keys(command)[0];
    const requestId = this.requestIdFor(scope, name);
    return this.d.transport(h.agentEndpoint).executeCommand({ hostId: h.hostId, epoch: h.epoch, instanceId, requestId, ...command }, { requestId: scope.requestId ?? requestId });
  }

  private resolve(host: AgentHost | string): Promise<AgentHost> {
    return typeof host === 'string' ? this.host(host) : Promise.resolve(host);
  }
}

/** Resolves to true when the command ran, false when the agent answered NOT_FOUND. */
async function ifPresent(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}
