import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MinicloudError, NotFoundError } from '@minicloud/domain-errors';
import type { identity } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext, queryValue } from '../http/context';
import { HttpError } from '../http/errors';
import { endpointUrl } from './catalog';
import { collectionLinks } from './views';

const id255 = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\s/]+$' };
const text = { type: ['string', 'null'], maxLength: 255 };
const longText = { type: ['string', 'null'], maxLength: 2048 };
const iface = { type: 'string', enum: ['public', 'internal', 'admin'] };
const url = { type: 'string', minLength: 1, maxLength: 2048 };
const one = (key: string, properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'object', required, properties, additionalProperties: false } },
  additionalProperties: false,
});

/** Keystone's region, service and endpoint request bodies (keystone/catalog/schema.py, extra attributes not kept). */
const regionCreate = one('region', { id: id255, description: longText, parent_region_id: { ...id255, type: ['string', 'null'] } });
const regionUpdate = one('region', { description: longText, parent_region_id: { ...id255, type: ['string', 'null'] } });
const serviceCreate = one('service', { type: { type: 'string', minLength: 1, maxLength: 255 }, name: text, description: longText, enabled: { type: 'boolean' } }, ['type']);
const serviceUpdate = one('service', { type: { type: 'string', minLength: 1, maxLength: 255 }, name: text, description: longText, enabled: { type: 'boolean' } });
const endpointCreate = one('endpoint', { service_id: id255, interface: iface, url, region_id: { ...id255, type: ['string', 'null'] }, region: { ...id255, type: ['string', 'null'] }, enabled: { type: 'boolean' } }, ['service_id', 'interface', 'url']);
const endpointUpdate = one('endpoint', { service_id: id255, interface: iface, url, region_id: { ...id255, type: ['string', 'null'] }, region: { ...id255, type: ['string', 'null'] }, enabled: { type: 'boolean' } });

type Id = { Params: { id: string } };

/**
 * Keystone v3 regions, services and endpoints, kept by identity (IdentityService's service-catalog
 * RPCs, whose policy decides: any valid token reads, admins write): list (with Keystone's filters),
 * show, create (201; a region also by `PUT /v3/regions/{id}`), update (PATCH) and delete (204).
 * Deleting a service deletes its endpoints; a region with endpoints (its own or its children's)
 * is refused with 403, as Keystone's RegionDeletionError. An endpoint's legacy `region` is created
 * when unknown; an unknown `region_id` is 400. Stored URLs show with this front's base URL put in
 * for `$(public_url)s`; tokens and /v3/auth/catalog are built from the same catalog.
 */
export async function catalogRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const id = deps.backends.identity;
  const base = (req: FastifyRequest) => `${baseUrl(req, deps.publicUrl)}/identity`;
  const catalog = (req: FastifyRequest) => id.listServiceCatalog({}, callContext(req));

  const regionView = (req: FastifyRequest, r: identity.Region) => ({ id: r.id, description: r.description, parent_region_id: r.parentRegionId || null, links: { self: `${base(req)}/v3/regions/${r.id}` } });
  const serviceView = (req: FastifyRequest, s: identity.CatalogService) => ({ id: s.id, type: s.type, name: s.name, description: s.description, enabled: s.enabled, links: { self: `${base(req)}/v3/services/${s.id}` } });
  const endpointView = (req: FastifyRequest, e: identity.CatalogEndpoint) => ({
    id: e.id,
    interface: e.interface,
    region: e.regionId || null,
    region_id: e.regionId || null,
    service_id: e.serviceId,
    url: endpointUrl(e.url, baseUrl(req, deps.publicUrl)),
    enabled: e.enabled,
    links: { self: `${base(req)}/v3/endpoints/${e.id}` },
  });
  const find = <T extends { id: string }>(list: T[], rid: string, kind: string): T => {
    const x = list.find((r) => r.id === rid);
    if (!x) throw new NotFoundError(kind, rid);
    return x;
  };
  const created = (reply: FastifyReply, body: unknown) => reply.code(201).send(body);
  const gone = (reply: FastifyReply) => reply.code(204).send();

  app.get('/v3/regions', async (req) => {
    const parent = queryValue(req, 'parent_region_id');
    const regions = (await catalog(req)).regions.filter((r) => parent === undefined || r.parentRegionId === parent);
    return { regions: regions.map((r) => regionView(req, r)), links: collectionLinks(`${base(req)}/v3/regions`) };
  });
  app.get<Id>('/v3/regions/:id', async (req) => ({ region: regionView(req, find((await catalog(req)).regions, req.params.id, 'region')) }));
  type RegionBody = { region: { id?: string; description?: string | null; parent_region_id?: string | null } };
  app.post<{ Body: RegionBody }>('/v3/regions', { schema: { body: regionCreate } }, async (req, reply) => {
    const r = req.body.region;
    const { region } = await id.createRegion({ id: r.id ?? '', description: r.description ?? '', parentRegionId: r.parent_region_id ?? '' }, callContext(req));
    return created(reply, { region: regionView(req, region!) });
  });
  app.put<Id & { Body: RegionBody }>('/v3/regions/:id', { schema: { body: regionCreate } }, async (req, reply) => {
    const r = req.body.region;
    if (r.id !== undefined && r.id !== req.params.id) throw new HttpError(400, 'Conflicting region IDs specified: the region id in the URL and in the body differ.');
    const { region } = await id.createRegion({ id: req.params.id, description: r.description ?? '', parentRegionId: r.parent_region_id ?? '' }, callContext(req));
    return created(reply, { region: regionView(req, region!) });
  });
  app.patch<Id & { Body: RegionBody }>('/v3/regions/:id', { schema: { body: regionUpdate } }, async (req) => {
    const r = req.body.region;
    const patch = { regionId: req.params.id, description: r.description === undefined ? undefined : (r.description ?? ''), parentRegionId: r.parent_region_id === undefined ? undefined : (r.parent_region_id ?? '') };
    return { region: regionView(req, (await id.updateRegion(patch, callContext(req))).region!) };
  });
  app.delete<Id>('/v3/regions/:id', async (req, reply) => {
    try {
      await id.deleteRegion({ regionId: req.params.id }, callContext(req));
    } catch (e) {
      // Keystone's RegionDeletionError is a 403 (ForbiddenNotSecurity)
      if (e instanceof MinicloudError && e.code === 'FAILED_PRECONDITION') throw new HttpError(403, e.message);
      throw e;
    }
    return gone(reply);
  });

  app.get('/v3/services', async (req) => {
    const [type, name] = [queryValue(req, 'type'), queryValue(req, 'name')];
    const services = (await catalog(req)).services.filter((s) => (type === undefined || s.type === type) && (name === undefined || s.name === name));
    return { services: services.map((s) => serviceView(req, s)), links: collectionLinks(`${base(req)}/v3/services`) };
  });
  app.get<Id>('/v3/services/:id', async (req) => ({ service: serviceView(req, find((await catalog(req)).services, req.params.id, 'service')) }));
  type ServiceBody = { service: { type?: string; name?: string | null; description?: string | null; enabled?: boolean } };
  app.post<{ Body: ServiceBody }>('/v3/services', { schema: { body: serviceCreate } }, async (req, reply) => {
    const s = req.body.service;
    const { service } = await id.createCatalogService({ type: s.type!, name: s.name ?? '', description: s.description ?? '', enabled: s.enabled ?? true }, callContext(req));
    return created(reply, { service: serviceView(req, service!) });
  });
  app.patch<Id & { Body: ServiceBody }>('/v3/services/:id', { schema: { body: serviceUpdate } }, async (req) => {
    const s = req.body.service;
    const orNone = (v: string | null | undefined) => (v === undefined ? undefined : (v ?? ''));
    const { service } = await id.updateCatalogService({ serviceId: req.params.id, type: s.type, name: orNone(s.name), description: orNone(s.description), enabled: s.enabled }, callContext(req));
    return { service: serviceView(req, service!) };
  });
  app.delete<Id>('/v3/services/:id', async (req, reply) => {
    await id.deleteCatalogService({ serviceId: req.params.id }, callContext(req));
    return gone(reply);
  });

  app.get('/v3/endpoints', async (req) => {
    const [service, ifc, region] = [queryValue(req, 'service_id'), queryValue(req, 'interface'), queryValue(req, 'region_id')];
    const list = (await catalog(req)).endpoints.filter((e) => (service === undefined || e.serviceId === service) && (ifc === undefined || e.interface === ifc) && (region === undefined || e.regionId === region));
    return { endpoints: list.map((e) => endpointView(req, e)), links: collectionLinks(`${base(req)}/v3/endpoints`) };
  });
  app.get<Id>('/v3/endpoints/:id', async (req) => ({ endpoint: endpointView(req, find((await catalog(req)).endpoints, req.params.id, 'endpoint')) }));
  type EndpointBody = { endpoint: { service_id?: string; interface?: string; url?: string; region_id?: string | null; region?: string | null; enabled?: boolean } };
  app.post<{ Body: EndpointBody }>('/v3/endpoints', { schema: { body: endpointCreate } }, async (req, reply) => {
    const e = req.body.endpoint;
    // Keystone: region_id must name a region; the legacy `region` alone is created when unknown
    const regionId = e.region_id ?? e.region ?? '';
    const { endpoint } = await id.createCatalogEndpoint(
      { serviceId: e.service_id!, interface: e.interface!, url: e.url!, regionId, enabled: e.enabled ?? true, createRegion: !e.region_id && !!e.region },
      callContext(req),
    );
    return created(reply, { endpoint: endpointView(req, endpoint!) });
  });
  app.patch<Id & { Body: EndpointBody }>('/v3/endpoints/:id', { schema: { body: endpointUpdate } }, async (req) => {
    const e = req.body.endpoint;
    const region = e.region_id !== undefined ? e.region_id : e.region;
    const patch = { endpointId: req.params.id, serviceId: e.service_id, interface: e.interface, url: e.url, regionId: region === undefined ? undefined : (region ?? ''), enabled: e.enabled, createRegion: e.region_id === undefined && !!e.region };
    return { endpoint: endpointView(req, (await id.updateCatalogEndpoint(patch, callContext(req))).endpoint!) };
  });
  app.delete<Id>('/v3/endpoints/:id', async (req, reply) => {
    await id.deleteCatalogEndpoint({ endpointId: req.params.id }, callContext(req));
    return gone(reply);
  });
}
