import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallContext } from '../backends';
import { callContext, queryValue } from '../http/context';
import { paginate } from '../http/pagination';
import { filterViews, projectFields, sortViews } from './views';

type Query = Record<string, string | string[] | undefined>;
/** A resource as Neutron shows it (snake_case attributes, an `id`). */
export type NeutronView = Record<string, unknown>;

/**
 * One Neutron resource, as the gRPC calls that back it: every item of the caller's list (in the
 * views Neutron shows), one item, a create from the parsed body, an optional update, a delete. The
 * REST shape around them (collection names, filters, fields, sorting, paging, bulk create, status
 * codes) is {@link neutronResourceRoutes}'.
 */
export interface NeutronResource<Body, Update = never> {
  /** Singular name, e.g. "network"; the collection is its plural with an "s". */
  name: string;
  /** The collection's URL segment when it is not the plural (e.g. "security-groups"). */
  path?: string;
  list(req: FastifyRequest, ctx: CallContext): Promise<NeutronView[]>;
  show(id: string, ctx: CallContext): Promise<NeutronView>;
  create: { schema: object; run(body: Body, ctx: CallContext): Promise<NeutronView> };
  /** PUT /<collection>/:id with `{"<name>": {...}}`, checked by the schema. */
  update?: { schema: object; run(id: string, body: Update, ctx: CallContext): Promise<NeutronView> };
  remove(id: string, ctx: CallContext): Promise<void>;
}

/**
 * The schema of a create that also takes Neutron's bulk form `{"<name>s": [{...}, ...]}`: exactly
 * one of the two keys, each item checked by the single create's item schema.
 */
function createOrBulkSchema(name: string, single: object): object {
  const item = (single as { properties: Record<string, object> }).properties[name];
  return {
    type: 'object',
    properties: { [name]: item, [`${name}s`]: { type: 'array', minItems: 1, maxItems: 1000, items: item } },
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false,
  };
}

/**
 * Neutron's REST shape of one resource under `api` (mounted at /v2.0): `GET /<name>s` (attribute
 * filters, `fields`, sort_key/sort_dir, limit/marker with `<name>s_links`), `GET /<name>s/:id`
 * (`fields`), `POST /<name>s` (201; a bulk `{"<name>s": [...]}` is all or nothing: the items made
 * before a failing one are deleted again), `PUT /<name>s/:id` when the resource updates,
 * `DELETE /<name>s/:id` (204).
 */
export function neutronResourceRoutes<Body, Update = never>(api: FastifyInstance, v2Url: (req: FastifyRequest) => string, r: NeutronResource<Body, Update>): void {
  const collection = `${r.name}s`;
  const path = r.path ?? collection;
  api.get(`/${path}`, async (req) => {
    const query = req.query as Query;
    const views = sortViews(filterViews(await r.list(req, callContext(req)), query), query);
    const limit = queryValue(req, 'limit') === '0' ? undefined : queryValue(req, 'limit');
    const page = paginate(views, (v) => String(v.id), { limit, marker: queryValue(req, 'marker') });
    const next = page.nextMarker ? { [`${collection}_links`]: [{ rel: 'next', href: `${v2Url(req)}/${path}?limit=${page.items.length}&marker=${page.nextMarker}` }] } : {};
    return { [collection]: page.items.map((v) => projectFields(v, query.fields)), ...next };
  });
  api.get<{ Params: { id: string } }>(`/${path}/:id`, async (req) => ({ [r.name]: projectFields(await r.show(req.params.id, callContext(req)), (req.query as Query).fields) }));
  api.post(`/${path}`, { schema: { body: createOrBulkSchema(r.name, r.create.schema) } }, async (req, reply) => {
    const ctx = callContext(req);
    const body = req.body as Record<string, unknown>;
    if (!(collection in body)) return reply.code(201).send({ [r.name]: await r.create.run(body as Body, ctx) });
    const made: NeutronView[] = [];
    try {
      for (const item of body[collection] as unknown[]) made.push(await r.create.run({ [r.name]: item } as Body, ctx));
    } catch (e) {
      await Promise.allSettled(made.map((v) => r.remove(String(v.id), ctx)));
      throw e;
    }
    return reply.code(201).send({ [collection]: made });
  });
  const update = r.update;
  if (update) {
    api.put<{ Params: { id: string } }>(`/${path}/:id`, { schema: { body: update.schema } }, async (req) => ({
      [r.name]: await update.run(req.params.id, req.body as Update, callContext(req)),
    }));
  }
  api.delete<{ Params: { id: string } }>(`/${path}/:id`, async (req, reply) => {
    await r.remove(req.params.id, callContext(req));
    return reply.code(204).send();
  });
}
