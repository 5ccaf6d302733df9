import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import type { InstancePort, InstanceRecord } from '@minicloud/domain-compute';
import type { agent, compute, network } from '@minicloud/proto';
import { isCloudAdmin } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial } from '@minicloud/platform-grpc';
import type { Logger } from '@minicloud/platform-logging';
import type { AgentClient } from '../agent/agent-client';
import type { Peers } from '../peers';
import type { HostRecord, HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';

/** vm_states where a vNIC may be hot-plugged or unplugged, with no task running (Nova: ACTIVE, SHUTOFF). */
export const INTERFACE_ACTION_VM_STATES: ReadonlySet<InstanceRecord['vmState']> = new Set(['active', 'stopped']);

/** An entry still `attaching` after this long belongs to an attach that died midway: a detach may take it. */
export const STALE_INTERFACE_ATTACH_MS = 60_000;

/** What an interface attach asks for (AttachInterfaceAction): a network, a port, or neither (the project's one network). */
export interface AttachInterfaceRequest {
  networkId?: string;
  portId?: string;
  /** With networkId: the IPv4 address of the new port. */
  fixedIp?: string;
}

export interface InterfaceAttachDeps {
  instances: InstanceStore;
  hosts: Pick<HostStore, 'find'>;
  peers: Peers;
  agents: Pick<AgentClient, 'attachInterface' | 'detachInterface'>;
  nowMs: () => number;
  logger?: Logger;
}

/** A network service port as Nova's os-interface shows it. */
export function interfaceAttachmentOf(p: network.Port): DeepPartial<compute.InterfaceAttachment> {
  return {
    portId: p.id,
    networkId: p.networkId,
    macAddress: p.macAddress,
    portState: p.status,
    fixedIps: p.fixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress })),
  };
}

/**
 * @throws FailedPreconditionError instance_invalid_state naming vm_state (and task_state) unless the
 *   instance is ACTIVE or SHUTOFF with no task (Nova's check_instance_state for attach/detach_interface)
 */
export function checkInterfaceActionAllowed(r: InstanceRecord, action: 'attach_interface' | 'detach_interface'): void {
  if (!INTERFACE_ACTION_VM_STATES.has(r.vmState) || r.taskState !== null) {
    throw new FailedPreconditionError(
      `Cannot '${action}' instance ${r.id} while it is in vm_state ${r.vmState}${r.taskState ? `, task_state ${r.taskState}` : ''}`,
      'instance_invalid_state',
    );
  }
}

/** Longest network or port id accepted (Neutron's ids are 36-character UUIDs; its name columns are 255). */
export const MAX_ID_CHARS = 255;

/** @throws InvalidArgumentError(field) for an id longer than {@link MAX_ID_CHARS} */
export function checkIdLength(field: string, id: string | undefined): void {
  if (id && id.length > MAX_ID_CHARS) throw new InvalidArgumentError(field, `is ${id.length} characters long, more than ${MAX_ID_CHARS}`);
}

/**
 * Checks the shape of an attach request. @throws InvalidArgumentError naming
 * `attach_interface.port_id` (with network_id too), an id over {@link MAX_ID_CHARS}, `attach_interface.fixed_ip_address` (without
 * network_id, or not an IPv4 address)
 */
export function validateAttachInterface(req: AttachInterfaceRequest): void {
  checkIdLength('attach_interface.network_id', req.networkId);
  checkIdLength('attach_interface.port_id', req.portId);
  if (req.networkId && req.portId) throw new InvalidArgumentError('attach_interface.port_id', 'must not be given with network_id (one of them names the interface)');
  if (req.fixedIp && !req.networkId) throw new InvalidArgumentError('attach_interface.fixed_ip_address', 'needs network_id (a port brought by port_id keeps its own addresses)');
  if (req.fixedIp && !isIPv4(req.fixedIp)) throw new InvalidArgumentError('attach_interface.fixed_ip_address', `"${req.fixedIp}" is not an IPv4 address`);
}

/**
 * Nova's os-interface for one instance, keeping the instance record, the network service and the
 * agent consistent (the volume attacher's shape):
 * - attach by network: a port is created on the network for the server's project (device_id = the
 *   server, so a concurrent delete finds it), then reserved on the record (`attachingSinceMs`);
 * - attach by port: the port (seen with the caller's token) must be the server's project's, have no
 *   device and no binding; it is reserved on the record first (`preserveOnDelete`);
 * then bound to the server's host (l2pop: the host's FDB learns it), hot-plugged by the agent, and
 * the entry completed. Any failure undoes what was done: unplug, unbind, and the port deleted
 * (created here) or its device cleared (the user's), then the entry dropped. A record that went
 * into deleting (or away) meanwhile fails the attach the same way, so no port is left behind.
 * Network service calls use the controller's service token, except the look-up of a user's port.
 */
export class InterfaceAttacher {
  constructor(private readonly d: InterfaceAttachDeps) {}

  /**
   * Attaches an interface to `instanceId` (already checked visible to the caller).
   * @returns the attached port and the updated record
   * @throws InvalidArgumentError (request shape; no network or several to choose from: Nova's 400s;
   *   no free address on the network); NotFoundError ('network', 'port', 'server');
   *   PermissionDeniedError for a port of another project, or a fixed IP on another project's (shared) network; FailedPreconditionError instance_invalid_state,
   *   port_in_use (a port with a device or a binding); AlreadyExistsError('ip_address') for a fixed IP in
   *   use; whatever the agent refused (the attach is then undone)
   */
  async attach(instanceId: string, req: AttachInterfaceRequest, ctx: CallContext, requestId: string = randomUUID()): Promise<{ port: network.Port; record: InstanceRecord }> {
    validateAttachInterface(req);
    const r = await this.d.instances.get(instanceId);
    checkInterfaceActionAllowed(r, 'attach_interface');
    const net = await this.d.peers.network();
    const deviceOwner = `compute:${r.availabilityZone}`;
    let userPort: network.Port | undefined;
    let networkId: string;
    if (req.portId) {
      userPort = await this.userPort(req.portId, r, ctx);
      networkId = userPort.networkId;
    } else {
      networkId = req.networkId || (await this.onlyNetwork(r, ctx));
      const visible = await this.visibleNetwork(networkId, ctx);
      // Nova's network:attach_external_network (admin only), as for a server's ports at create
      if (visible.routerExternal && !visible.shared && !isCloudAdmin(ctx.auth)) {
        throw new PermissionDeniedError(`It is not allowed to create an interface on external network ${networkId}`, 'external_network_attach_forbidden');
      }
      // Neutron's create_port:fixed_ips:ip_address rule, which Nova's port create meets with the caller's token
      if (req.fixedIp && visible.projectId !== ctx.auth?.projectId && !isCloudAdmin(ctx.auth)) {
        throw new PermissionDeniedError(`setting fixed_ips.ip_address on network ${networkId} of another project requires role admin or owning the network`);
      }
    }
    // VNI and MTU of the vNIC (the service's view: provider attributes), read before anything is created
    const netInfo = (await net.getNetwork({ networkId })).network!;
    const created = !userPort;
    const port =
      userPort ??
      (await net
        .createPort({ networkId, projectId: r.projectId, deviceId: r.id, deviceOwner, fixedIps: req.fixedIp ? [{ ipAddress: req.fixedIp }] : [], securityGroupIds: r.securityGroupIds ?? [] })
        .then((x) => x.port!)
        .catch((e: unknown) => {
          if (e instanceof ResourceExhaustedError && e.reason === 'ip_address_generation_failure') {
            throw new InvalidArgumentError('attach_interface.network_id', `Zero fixed IPs available on network ${networkId}`);
          }
          throw e;
        }));
    const entry: InstancePort = {
      portId: port.id,
      networkId: port.networkId,
      networkName: netInfo.name,
      macAddress: port.macAddress,
      ipAddresses: port.fixedIps.map((f) => f.ipAddress),
      segmentationId: netInfo.segmentationId,
      mtu: netInfo.mtu,
      preserveOnDelete: created ? undefined : true,
      attachingSinceMs: this.d.nowMs(),
    };
    let reserved: InstanceRecord | undefined;
    let bound = false;
    let agentTouched = false;
    try {
      reserved = await this.d.instances.update(
        instanceId,
        (cur) => {
          checkInterfaceActionAllowed(cur, 'attach_interface');
          if (cur.ports.some((p) => p.portId === port.id)) throw new FailedPreconditionError(`Port ${port.id} is still in use.`, 'port_in_use');
          return { ...cur, ports: [...cur.ports, entry] };
        },
        this.d.nowMs(),
      );
      if (!reserved) throw new NotFoundError('server', instanceId);
      // A user's port is claimed in the bind's compare-and-set: of two servers taking it at once, one wins.
      const boundPort = (await net.bindPort({ portId: port.id, hostId: reserved.hostId, deviceId: r.id, deviceOwner, claim: !created })).port ?? port;
      bound = true;
      entry.macAddress = boundPort.macAddress;
      entry.ipAddresses = boundPort.fixedIps.map((f) => f.ipAddress);
      agentTouched = true;
      await this.d.agents.attachInterface(await this.hostOf(reserved), instanceId, portBindingOf(entry), { requestId, step: 'attach_interface' });
      const done = await this.d.instances.update(
        instanceId,
        (cur) => {
          if (cur.taskState === 'deleting') throw new NotFoundError('server', instanceId);
          if (!cur.ports.some((p) => p.portId === port.id)) throw new NotFoundError('server', instanceId, `port ${port.id} left server ${instanceId} during the attach`);
          return { ...cur, ports: cur.ports.map((p) => (p.portId === port.id ? { ...entry, attachingSinceMs: undefined } : p)) };
        },
        this.d.nowMs(),
      );
      if (!done) throw new NotFoundError('server', instanceId);
      return { port: boundPort, record: done };
    } catch (e) {
      await this.undo(reserved ?? r, entry, { created, bound, agentTouched, recorded: !!reserved, requestId });
      throw e;
    }
  }

  /**
   * Detaches `portId` from `instanceId`: the agent unplugs the vNIC, then the port is deleted (made
   * for the server) or unbound with its device_id cleared (the user's), then the entry leaves the
   * record. The last interface may go.
   * @throws NotFoundError('port') when the server has no such interface; FailedPreconditionError
   *   instance_invalid_state, interface_attaching (an attach of it is still running)
   */
  async detach(instanceId: string, portId: string, requestId: string = randomUUID()): Promise<InstanceRecord> {
    const r = await this.d.instances.get(instanceId);
    checkInterfaceActionAllowed(r, 'detach_interface');
    const entry = r.ports.find((p) => p.portId === portId);
    if (!entry) throw new NotFoundError('port', portId, `Port ${portId} is not attached to server ${instanceId}`);
    if (entry.attachingSinceMs !== undefined && this.d.nowMs() - entry.attachingSinceMs < STALE_INTERFACE_ATTACH_MS) {
      throw new FailedPreconditionError(`port ${portId} is being attached to server ${instanceId}`, 'interface_attaching');
    }
    await this.d.agents.detachInterface(await this.hostOf(r), instanceId, portId, { requestId, step: 'detach_interface' });
    await releasePort(this.d.peers, entry, instanceId);
    const next = await this.d.instances.update(instanceId, (cur) => ({ ...cur, ports: cur.ports.filter((p) => p.portId !== portId) }), this.d.nowMs());
    if (!next) throw new NotFoundError('server', instanceId);
    return next;
  }

  private async undo(r: InstanceRecord, entry: InstancePort, o: { created: boolean; bound: boolean; agentTouched: boolean; recorded: boolean; requestId: string }): Promise<void> {
    try {
      if (o.agentTouched && r.hostId) {
        const host = await this.d.hosts.find(r.hostId);
        if (host) await this.d.agents.detachInterface(host, r.id, entry.portId, { requestId: o.requestId, step: 'undo_attach_interface' });
      }
      // Ours is deleted; the user's is given back only if this attach bound it (a lost claim leaves it to the winner).
      if (o.created || o.bound) await releasePort(this.d.peers, { portId: entry.portId, preserveOnDelete: !o.created }, r.id);
      if (o.recorded) await this.d.instances.update(r.id, (cur) => ({ ...cur, ports: cur.ports.filter((p) => p.portId !== entry.portId) }), this.d.nowMs());
    } catch (x) {
      // The entry stays `attaching`: a detach (after STALE_INTERFACE_ATTACH_MS) or the server's delete finishes the undo.
      this.d.logger?.warn({ instance_id: r.id, port_id: entry.portId, err: x instanceof Error ? x.message : x }, 'interface attach undo failed');
    }
  }

  /** The user's port, as the caller sees it, checked usable by `r` (Nova's _validate_requested_port_ids). */
  private async userPort(portId: string, r: InstanceRecord, ctx: CallContext): Promise<network.Port> {
    const net = await this.d.peers.network();
    let port: network.Port | undefined;
    try {
      port = (await net.getPort({ portId }, { token: ctx.token, requestId: ctx.requestId })).port;
    } catch (e) {
      if (!(e instanceof NotFoundError || e instanceof InvalidArgumentError)) throw e;
    }
    if (!port) throw new NotFoundError('port', portId, `Port ${portId} could not be found.`);
    if (port.projectId !== r.projectId) throw new PermissionDeniedError(`Port ${portId} belongs to another project than server ${r.id}`);
    if (port.deviceId || port.deviceOwner || port.bindingHostId) {
      throw new FailedPreconditionError(`Port ${portId} is still in use.`, 'port_in_use');
    }
    return port;
  }

  /** The network, when it exists and the caller may use it (GetNetwork with the caller's token). @throws NotFoundError('network') */
  private async visibleNetwork(networkId: string, ctx: CallContext): Promise<network.Network> {
    const net = await this.d.peers.network();
    try {
      const found = (await net.getNetwork({ networkId }, { token: ctx.token, requestId: ctx.requestId })).network;
      if (found) return found;
    } catch (e) {
      if (!(e instanceof NotFoundError || e instanceof InvalidArgumentError)) throw e;
    }
    throw new NotFoundError('network', networkId, `Network ${networkId} could not be found.`);
  }

  /**
   * Nova's choice when neither a network nor a port is named: the project's own networks (not
   * shared, not external) plus the shared ones; exactly one must remain.
   * @throws InvalidArgumentError('attach_interface.network_id') for none (InterfaceAttachFailedNoNetwork) or several (NetworkAmbiguous)
   */
  private async onlyNetwork(r: InstanceRecord, ctx: CallContext): Promise<string> {
    const net = await this.d.peers.network();
    const visible = (await net.listNetworks({ page: { pageSize: 1000 } }, { token: ctx.token, requestId: ctx.requestId })).networks;
    const usable = visible.filter((n) => n.shared || (n.projectId === r.projectId && !n.routerExternal));
    if (usable.length === 0) throw new InvalidArgumentError('attach_interface.network_id', `No specific network was requested and none are available for project '${r.projectId}'.`);
    if (usable.length > 1) throw new InvalidArgumentError('attach_interface.network_id', 'Multiple possible networks found, use a Network ID to be more specific.');
    return usable[0]!.id;
  }

  private async hostOf(r: InstanceRecord): Promise<HostRecord> {
    const host = r.hostId ? await this.d.hosts.find(r.hostId) : undefined;
    if (!host) throw new FailedPreconditionError(`server ${r.id} has no host`, 'instance_not_on_host');
    return host;
  }
}

/** An instance port as agent.v1.PortBinding. */
export function portBindingOf(p: InstancePort): DeepPartial<agent.PortBinding> {
  return { portId: p.portId, networkId: p.networkId, segmentationId: p.segmentationId, macAddress: p.macAddress, ipAddresses: p.ipAddresses, mtu: p.mtu };
}

/**
 * Gives a port of instance `instanceId` back: one the user brought (preserveOnDelete) is unbound and
 * its device_id and device_owner cleared (Nova keeps it), unless its device is another one by now (it
 * went to another server); one made for the instance is deleted. A port already gone counts as done.
 * Service token.
 */
export async function releasePort(peers: Peers, p: Pick<InstancePort, 'portId' | 'preserveOnDelete'>, instanceId: string): Promise<void> {
  const net = await peers.network();
  try {
    if (p.preserveOnDelete) {
      const cur = (await net.getPort({ portId: p.portId })).port;
      if (cur?.deviceId && cur.deviceId !== instanceId) return;
      await net.unbindPort({ portId: p.portId });
      await net.updatePort({ portId: p.portId, deviceId: '', deviceOwner: '', securityGroupIds: [], replaceSecurityGroups: false, fixedIps: [], replaceFixedIps: false });
    } else {
      await net.deletePort({ portId: p.portId });
    }
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
}
