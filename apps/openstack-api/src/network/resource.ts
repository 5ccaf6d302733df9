import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallContext } from '../backends';
import { callContext, queryValue } from '../http/context';
import { paginate } from '../http/pagination';
import { filterViews, projectFields } from './views';

type Query = Record<string, string | string[] | undefined>;
/** A resource as Neutron shows it (snake_case attributes, an `id`). */
export type NeutronView = Record<string, unknown>;

/**
 * One Neutron resource, as the gRPC calls that back it: every item of the caller's list (in the
 * views Neutron shows), one item, a create from the parsed body, a delete. The REST shape around
 * them (collection names, filters, fields, paging, status codes) is {@link neutronResourceRoutes}'.
 */
export interface NeutronResource<Body> {
  /** Singular name, e.g. "network"; the collection is its plural with an "s". */
  name: string;
  list(req: FastifyRequest, ctx: CallContext): Promise<NeutronView[]>;
  show(id: string, ctx: CallContext): Promise<NeutronView>;
  create: { schema: object; run(body: Body, ctx: CallContext): Promise<NeutronView> };
  remove(id: string, ctx: CallContext): Promise<void>;
}

/**
 * Neutron's REST shape of one resource under `api` (mounted at /v2.0): `GET /<name>s` (attribute
 * filters, `fields`, limit/marker with `<name>s_links`), `GET /<name>s/:id` (`fields`),
 * `POST /<name>s` (201, body checked by the schema), `DELETE /<name>s/:id` (204).
 */
export function neutronResourceRoutes<Body>(api: FastifyInstance, v2Url: (req: FastifyRequest) => string, r: NeutronResource<Body>): void {
  const collection = `${r.name}s`;
  api.get(`/${collection}`, async (req) => {
    const query = req.query as Query;
    const views = await r.list(req, callContext(req));
    const page = paginate(filterViews(views, query), (v) => String(v.id), { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') });
    const next = page.nextMarker ? { [`${collection}_links`]: [{ rel: 'next', href: `${v2Url(req)}/${collection}?limit=${page.items.length}&marker=${page.nextMarker}` }] } : {};
    return { [collection]: page.items.map((v) => projectFields(v, query.fields)), ...next };
  });
  api.get<{ Params: { id: string } }>(`/${collection}/:id`, async (req) => ({ [r.name]: projectFields(await r.show(req.params.id, callContext(req)), (req.query as Query).fields) }));
  api.post(`/${collection}`, { schema: { body: r.create.schema } }, async (req, reply) => reply.code(201).send({ [r.name]: await r.create.run(req.body as Body, callContext(req)) }));
  api.delete<{ Params: { id: string } }>(`/${collection}/:id`, async (req, reply) => {
    await r.remove(req.params.id, callContext(req));
    return reply.code(204).send();
  });
}
