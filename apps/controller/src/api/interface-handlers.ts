import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial, ServiceHandlers } from '@minicloud/platform-grpc';
import { type InstanceRecord, checkNotLocked } from '@minicloud/domain-compute';
import { checkIdLength, InterfaceAttacher, interfaceAttachmentOf } from '../build/interface-attach';
import type { ApiDeps } from './api-deps';
import { serverToProto } from './proto-mapping';
import { getScoped } from './scoping';

/** What the interface actions use. */
export type InterfaceActionDeps = Pick<ApiDeps, 'instances' | 'hosts' | 'peers' | 'agents' | 'nowMs'>;

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/**
 * ServerAction `attach_interface{network_id | port_id, fixed_ip_address}` / `detach_interface{port_id}`
 * (Nova's os-interface POST and DELETE), synchronous: the answer comes once the vNIC is plugged (the
 * attached port in `interface_attachment`) or unplugged and its port deleted or given back. Allowed
 * in ACTIVE and SHUTOFF without a task; refused on a locked server (unless admin). The sequence and
 * its undo are {@link InterfaceAttacher}'s. Logged in the instance actions as attach_interface /
 * detach_interface (Nova's names).
 * @throws InvalidArgumentError naming the field; NotFoundError ('network', 'port'); PermissionDeniedError
 *   (another project's port); FailedPreconditionError (instance_invalid_state, instance_locked, port_in_use);
 *   AlreadyExistsError('ip_address'); the agent's refusal
 */
export async function runInterfaceAction(
  d: InterfaceActionDeps,
  r: InstanceRecord,
  action: 'attachInterface' | 'detachInterface',
  req: compute.ServerActionRequest,
  ctx: CallContext,
  a: AuthContext,
): Promise<DeepPartial<compute.ServerActionResponse>> {
  const admin = isCloudAdmin(a);
  if (action === 'detachInterface' && !req.detachInterface?.portId) throw new InvalidArgumentError('detach_interface.port_id', 'is required');
  checkIdLength('detach_interface.port_id', req.detachInterface?.portId);
  checkNotLocked(r, admin);
  const name = action === 'attachInterface' ? 'attach_interface' : 'detach_interface';
  const attacher = new InterfaceAttacher({ instances: d.instances, hosts: d.hosts, peers: d.peers, agents: d.agents, nowMs: d.nowMs });
  await d.instances.startAction(r.id, { requestId: ctx.requestId, action: name, userId: a.userId, projectId: a.projectId, startMs: d.nowMs(), result: '', message: '' });
  try {
    let response: DeepPartial<compute.ServerActionResponse>;
    if (action === 'attachInterface') {
      const x = req.attachInterface!;
      const done = await attacher.attach(r.id, { networkId: x.networkId || undefined, portId: x.portId || undefined, fixedIp: x.fixedIpAddress || undefined }, ctx, ctx.requestId);
      response = { server: serverToProto(done.record, { admin }), interfaceAttachment: interfaceAttachmentOf(done.port) };
    } else {
      response = { server: serverToProto(await attacher.detach(r.id, req.detachInterface!.portId, ctx.requestId), { admin }) };
    }
    await d.instances.finishAction(r.id, ctx.requestId, 'Success', '', d.nowMs());
    return response;
  } catch (e) {
    await d.instances.finishAction(r.id, ctx.requestId, 'Error', e instanceof Error ? e.message : String(e), d.nowMs());
    throw e;
  }
}

/**
 * ListInterfaces (Nova's GET os-interface): the server's ports as the network service has them
 * (device_id = the server's id, read with the service token once the server is known to be the
 * caller's), oldest first. @throws NotFoundError('server') for another project's or an unknown server
 */
export function interfaceHandlers(d: Pick<ApiDeps, 'instances' | 'peers'>): Pick<Handlers, 'listInterfaces'> {
  return {
    async listInterfaces(req, ctx) {
      const r = await getScoped(d, req.serverId, ctx);
      const ports = (await (await d.peers.network()).listPorts({ deviceId: r.id })).ports;
      return { interfaceAttachments: ports.map(interfaceAttachmentOf) };
    },
  };
}
