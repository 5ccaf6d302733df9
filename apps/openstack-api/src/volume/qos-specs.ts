import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MinicloudError } from '@minicloud/domain-errors';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { flag } from './query';
import { createQosSpecsBody, setQosSpecsBody, unsetQosSpecsBody } from './schemas';
import { qosSpecsView } from './views';

type Id = { Params: { project_id: string; id: string } };

/** Cinder answers a conflict of a QoS specs with its types (in use, already associated elsewhere) 400, not 409. */
async function asBadRequest<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof MinicloudError && e.code === 'FAILED_PRECONDITION') throw new HttpError(400, e.message);
    throw e;
  }
}

/** The `vol_type_id` query parameter of associate and disassociate ('' when absent: the service refuses it, 400). */
const volTypeId = (req: FastifyRequest) => queryValue(req, 'vol_type_id') ?? '';

/**
 * Cinder's QoS specs (`/qos-specs`, admin only: the volume service's policy decides): list, create
 * (200, `consumer` defaults to back-end, every other key a spec), show (with self and bookmark
 * links), set keys (PUT, echoes the body), delete keys (PUT delete_keys, 202), delete (202;
 * `?force=true` while types carry it, else 400), associations, and the GET actions associate,
 * disassociate (`?vol_type_id=`) and disassociate_all (202).
 */
export async function qosSpecsRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const vol = deps.backends.volume;
  const links = (req: FastifyRequest<{ Params: { project_id: string } }>, id: string) => [
    { rel: 'self', href: `${baseUrl(req, deps.publicUrl)}/volume/v3/${req.params.project_id}/qos-specs/${id}` },
    { rel: 'bookmark', href: `${baseUrl(req, deps.publicUrl)}/volume/${req.params.project_id}/qos-specs/${id}` },
  ];
  const accepted = (reply: FastifyReply) => reply.code(202).send();

  app.get('/qos-specs', async (req) => ({ qos_specs: (await vol.listQosSpecs({}, callContext(req))).qosSpecs.map(qosSpecsView) }));

  type Create = { Params: { project_id: string }; Body: { qos_specs: Record<string, string> } };
  app.post<Create>('/qos-specs', { schema: { body: createQosSpecsBody } }, async (req) => {
    const { name, consumer, ...specs } = req.body.qos_specs;
    const { qosSpecs } = await vol.createQosSpecs({ name: name.trim(), consumer: consumer ?? '', specs }, callContext(req));
    return { qos_specs: qosSpecsView(qosSpecs!), links: links(req, qosSpecs!.id) };
  });

  app.get<Id>('/qos-specs/:id', async (req) => {
    const { qosSpecs } = await vol.getQosSpecs({ qosSpecsId: req.params.id }, callContext(req));
    return { qos_specs: qosSpecsView(qosSpecs!), links: links(req, qosSpecs!.id) };
  });

  app.put<Id & { Body: { qos_specs: Record<string, string> } }>('/qos-specs/:id', { schema: { body: setQosSpecsBody } }, async (req) => {
    const { consumer, ...set } = req.body.qos_specs;
    await vol.updateQosSpecs({ qosSpecsId: req.params.id, consumer, setSpecs: set, removeKeys: [] }, callContext(req));
    return { qos_specs: req.body.qos_specs };
  });

  app.put<Id & { Body: { keys: string[] } }>('/qos-specs/:id/delete_keys', { schema: { body: unsetQosSpecsBody } }, async (req, reply) => {
    await vol.updateQosSpecs({ qosSpecsId: req.params.id, setSpecs: {}, removeKeys: req.body.keys }, callContext(req));
    return accepted(reply);
  });

  app.delete<Id>('/qos-specs/:id', async (req, reply) => {
    await asBadRequest(vol.deleteQosSpecs({ qosSpecsId: req.params.id, force: flag(req, 'force') }, callContext(req)));
    return accepted(reply);
  });

  app.get<Id>('/qos-specs/:id/associations', async (req) => {
    const { volumeTypes } = await vol.listQosSpecsAssociations({ qosSpecsId: req.params.id }, callContext(req));
    return { qos_associations: volumeTypes.map((t) => ({ association_type: 'volume_type', name: t.name, id: t.id })) };
  });

  app.get<Id>('/qos-specs/:id/associate', async (req, reply) => {
    await asBadRequest(vol.associateQosSpecs({ qosSpecsId: req.params.id, volumeTypeId: volTypeId(req) }, callContext(req)));
    return accepted(reply);
  });

  app.get<Id>('/qos-specs/:id/disassociate', async (req, reply) => {
    await vol.disassociateQosSpecs({ qosSpecsId: req.params.id, volumeTypeId: volTypeId(req), all: false }, callContext(req));
    return accepted(reply);
  });

  app.get<Id>('/qos-specs/:id/disassociate_all', async (req, reply) => {
    await vol.disassociateQosSpecs({ qosSpecsId: req.params.id, volumeTypeId: '', all: true }, callContext(req));
    return accepted(reply);
  });
}
