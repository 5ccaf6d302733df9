import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { HttpError } from '../http/errors';
import { attachInterfaceBody } from './extra-schemas';

type Id = { Params: { id: string } };
type IdPort = { Params: { id: string; portId: string } };

/** Nova's interfaceAttachment view of one vNIC (nova/api/openstack/compute/attach_interfaces.py). */
export function interfaceAttachmentView(a: compute.InterfaceAttachment): Record<string, unknown> {
  return {
    port_state: a.portState,
    fixed_ips: a.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
    port_id: a.portId,
    net_id: a.networkId,
    mac_addr: a.macAddress,
  };
}

/**
 * Nova's os-interface under /servers/{id}: list (the server's ports, ListInterfaces), show one (404
 * when the server has no such port), attach (POST `interfaceAttachment` with `net_id` or `port_id`,
 * optionally `fixed_ips` with one `ip_address`; 200 with the attachment once plugged) and detach
 * (DELETE, 202). Every call goes to the controller with the caller's token; the controller's
 * policy and project scoping decide (another project's server: 404).
 */
export async function interfaceRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const c = deps.backends.compute;
  const list = async (req: FastifyRequest<Id>) => (await c.listInterfaces({ serverId: req.params.id }, callContext(req))).interfaceAttachments;

  app.get<Id>('/servers/:id/os-interface', async (req) => ({ interfaceAttachments: (await list(req)).map(interfaceAttachmentView) }));

  app.get<IdPort>('/servers/:id/os-interface/:portId', async (req) => {
    const a = (await list(req)).find((x) => x.portId === req.params.portId);
    if (!a) throw new HttpError(404, `Instance ${req.params.id} does not have a port with id ${req.params.portId}`);
    return { interfaceAttachment: interfaceAttachmentView(a) };
  });

  app.post<Id>('/servers/:id/os-interface', { schema: { body: attachInterfaceBody } }, async (req) => {
    const body = (req.body ?? {}) as { interfaceAttachment?: { net_id?: string; port_id?: string; fixed_ips?: { ip_address: string }[] } };
    const att = body.interfaceAttachment ?? {};
    const fixedIp = att.fixed_ips?.[0]?.ip_address ?? '';
    // Nova's own checks of the attachment, with its words
    if (att.net_id && att.port_id) throw new HttpError(400, 'Must not input both network_id and port_id');
    if (fixedIp && !att.net_id) throw new HttpError(400, 'Must input network_id when request IP address');
    const res = await c.serverAction({ serverId: req.params.id, attachInterface: { networkId: att.net_id ?? '', portId: att.port_id ?? '', fixedIpAddress: fixedIp } }, callContext(req));
    return { interfaceAttachment: interfaceAttachmentView(res.interfaceAttachment!) };
  });

  app.delete<IdPort>('/servers/:id/os-interface/:portId', async (req, reply) => {
    await c.serverAction({ serverId: req.params.id, detachInterface: { portId: req.params.portId } }, callContext(req));
    return reply.code(202).send();
  });
}
