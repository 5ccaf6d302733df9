import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { HttpError } from '../http/errors';
import { instanceActionView, volumeAttachmentView } from './admin-views';
import { attachVolumeBody, metadataBody, metadataItemBody, updateServerBody } from './extra-schemas';
import { withFloatingAddresses } from './security-groups';
import { ipsView, serverBasic, type ComputeUrls } from './views';

type Id = { Params: { id: string } };
type IdKey = { Params: { id: string; key: string } };

/**
 * A server's own resources under /servers/{id}: update (PUT: name, accessIPv4/6), ips (all, or one
 * network by label), metadata (the whole map:
 * GET, PUT replaces, POST merges; one item: GET, PUT, DELETE), os-instance-actions (list newest
 * first, show with its event) and os-volume_attachments (list, show, attach, detach). Every call
 * goes to the controller with the caller's token: another project's server is its NOT_FOUND, 404.
 */
export async function serverResourceRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest) => ComputeUrls): Promise<void> {
  const c = deps.backends.compute;
  const getServer = async (req: FastifyRequest<Id>) => (await c.getServer({ serverId: req.params.id }, callContext(req))).server!;
  const update = async (req: FastifyRequest<Id>, set: Record<string, string>, remove: string[] = []) =>
    (await c.updateServer({ serverId: req.params.id, setMetadata: set, removeMetadata: remove }, callContext(req))).server!;

  app.put<Id>('/servers/:id', { schema: { body: updateServerBody } }, async (req) => {
    const { server } = req.body as { server: { name?: string; accessIPv4?: string; accessIPv6?: string } };
    const res = await c.updateServer(
      { serverId: req.params.id, name: server.name, accessIpV4: server.accessIPv4, accessIpV6: server.accessIPv6, setMetadata: {}, removeMetadata: [] },
      callContext(req),
    );
    return { server: serverBasic(res.server!, urls(req)) };
  });

  // Nova's ips: the addresses of the server as in its view (fixed, then the floating IP mapped to
  // each), all or one network's, by label
  const addressesOf = async (req: FastifyRequest<Id>) => {
    const [server] = await withFloatingAddresses(deps.backends.network, callContext(req), [await getServer(req)]);
    return ipsView(server.addresses);
  };
  app.get<Id>('/servers/:id/ips', async (req) => ({ addresses: await addressesOf(req) }));
  app.get<{ Params: { id: string; label: string } }>('/servers/:id/ips/:label', async (req) => {
    const addresses = await addressesOf(req);
    if (!(req.params.label in addresses)) throw new HttpError(404, 'Instance is not a member of specified network');
    return { [req.params.label]: addresses[req.params.label] };
  });

  app.get<Id>('/servers/:id/metadata', async (req) => ({ metadata: (await getServer(req)).metadata }));
  app.post<Id>('/servers/:id/metadata', { schema: { body: metadataBody } }, async (req) => ({
    metadata: (await update(req, (req.body as { metadata: Record<string, string> }).metadata)).metadata,
  }));
  app.put<Id>('/servers/:id/metadata', { schema: { body: metadataBody } }, async (req) => {
    const wanted = (req.body as { metadata: Record<string, string> }).metadata;
    const stale = Object.keys((await getServer(req)).metadata).filter((k) => !(k in wanted));
    return { metadata: (await update(req, wanted, stale)).metadata };
  });
  app.get<IdKey>('/servers/:id/metadata/:key', async (req) => {
    const md = (await getServer(req)).metadata;
    if (!(req.params.key in md)) throw new HttpError(404, 'Metadata item was not found');
    return { meta: { [req.params.key]: md[req.params.key] } };
  });
  app.put<IdKey>('/servers/:id/metadata/:key', { schema: { body: metadataItemBody } }, async (req) => {
    const meta = (req.body as { meta: Record<string, string> }).meta;
    if (!(req.params.key in meta)) throw new HttpError(400, 'Request body and URI mismatch');
    const md = (await update(req, meta)).metadata;
    return { meta: { [req.params.key]: md[req.params.key] } };
  });
  app.delete<IdKey>('/servers/:id/metadata/:key', async (req, reply) => {
    if (!(req.params.key in (await getServer(req)).metadata)) throw new HttpError(404, 'Metadata item was not found');
    await update(req, {}, [req.params.key]);
    return reply.code(204).send();
  });

  const actions = async (req: FastifyRequest<Id>) => {
    const list = (await c.listInstanceActions({ serverId: req.params.id }, callContext(req))).actions;
    return [...list].sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0));
  };
  app.get<Id>('/servers/:id/os-instance-actions', async (req) => ({ instanceActions: (await actions(req)).map((a) => instanceActionView(a)) }));
  app.get<{ Params: { id: string; requestId: string } }>('/servers/:id/os-instance-actions/:requestId', async (req) => {
    const a = (await actions(req)).find((x) => x.requestId === req.params.requestId);
    if (!a) throw new HttpError(404, `Action for request_id ${req.params.requestId} on instance ${req.params.id} not found`);
    return { instanceAction: instanceActionView(a, true) };
  });

  app.get<Id>('/servers/:id/os-volume_attachments', async (req) => {
    const s = await getServer(req);
    return { volumeAttachments: s.volumesAttached.map((v) => volumeAttachmentView(s.id, v)) };
  });
  app.get<{ Params: { id: string; volumeId: string } }>('/servers/:id/os-volume_attachments/:volumeId', async (req) => {
    const s = await getServer(req);
    const v = s.volumesAttached.find((x) => x.volumeId === req.params.volumeId);
    if (!v) throw new HttpError(404, `Volume ${req.params.volumeId} is not attached to server ${s.id}.`);
    return { volumeAttachment: volumeAttachmentView(s.id, v) };
  });
  app.post<Id>('/servers/:id/os-volume_attachments', { schema: { body: attachVolumeBody } }, async (req) => {
    const { volumeId, device } = (req.body as { volumeAttachment: { volumeId: string; device?: string | null } }).volumeAttachment;
    const ctx = callContext(req);
    const res = await c.serverAction({ serverId: req.params.id, attachVolume: { volumeId, deviceName: device ?? '' } }, ctx);
    const s = res.server ?? (await c.getServer({ serverId: req.params.id }, ctx)).server!;
    const v = s.volumesAttached.find((x) => x.volumeId === volumeId) ?? { volumeId, deviceName: device ?? '', attachmentId: '', deleteOnTermination: false };
    return { volumeAttachment: volumeAttachmentView(s.id, v) };
  });
  app.delete<{ Params: { id: string; volumeId: string } }>('/servers/:id/os-volume_attachments/:volumeId', async (req, reply) => {
    await c.serverAction({ serverId: req.params.id, detachVolume: { volumeId: req.params.volumeId } }, callContext(req));
    return reply.code(202).send();
  });
}
