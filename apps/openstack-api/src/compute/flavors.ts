import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { paginate } from '../http/pagination';
import { createExtraSpecsBody, createFlavorBody, flavorActionBody, updateExtraSpecBody } from './flavor-schemas';
import { flavorDetail, flavorSummary, type ComputeUrls } from './views';

type Id = { Params: { id: string } };
type IdKey = { Params: { id: string; key: string } };
type Count = number | string;

interface CreateFlavor {
  name: string;
  id?: string | number | null;
  ram: Count;
  vcpus: Count;
  disk: Count;
  'OS-FLV-EXT-DATA:ephemeral'?: Count;
  swap?: Count;
  rxtx_factor?: number | string;
  'os-flavor-access:is_public'?: boolean | string;
}

const TRUE = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);

/** A boolean as oslo's bool_from_string reads it (case-insensitive); undefined when it is none of its spellings. */
function parseBool(v: boolean | string): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}

/**
 * The `is_public` filter of a flavor list, as Nova reads it: absent -> public ones (and those granted
 * to the caller's project), "none" -> every flavor, else a boolean; the controller applies it to admins
 * only (others always see the public flavors and their project's).
 * @throws HttpError 400 for any other value
 */
function isPublicFilter(v: string | undefined): boolean | undefined {
  if (v === undefined) return true;
  if (v.trim().toLowerCase() === 'none') return undefined;
  const b = parseBool(v);
  if (b === undefined) throw new HttpError(400, `Invalid is_public filter [${v}]`);
  return b;
}

/** Extra spec values as Nova stores them: strings (numbers and booleans by their Python spelling). */
function specStrings(specs: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)]));
}

/**
 * Nova 2.1's flavors: list and detail (minRam, minDisk, is_public, limit/marker), show, create and
 * delete (admin), extra specs (read; write admin), and flavor access (the access list of a private
 * flavor, addTenantAccess / removeTenantAccess; admin). Who may do what is the controller's policy;
 * a private flavor another project was not granted is 404, as Nova hides it.
 */
export async function flavorRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest) => ComputeUrls): Promise<void> {
  const c = deps.backends.compute;
  const getFlavor = async (req: FastifyRequest, ref: string) => (await c.getFlavor({ flavorRef: ref }, callContext(req))).flavor!;

  const flavors = async (req: FastifyRequest) => {
    const isPublic = isPublicFilter(queryValue(req, 'is_public'));
    const all = (await c.listFlavors({ isPublic }, callContext(req))).flavors;
    const minRam = queryValue(req, 'minRam');
    const minDisk = queryValue(req, 'minDisk');
    for (const [k, v] of [['minRam', minRam], ['minDisk', minDisk]] as const) {
      if (v !== undefined && !/^\d+$/.test(v)) throw invalidField(k, `'${v}' is not a non-negative integer.`);
    }
    const sorted = all
      .filter((f) => (minRam === undefined || f.ramMb >= Number(minRam)) && (minDisk === undefined || f.diskGb >= Number(minDisk)))
      .sort((a, b) => a.id.localeCompare(b.id));
    return paginate(sorted, (f) => f.id, { limit: queryValue(req, 'limit'), marker: queryValue(req, 'marker') });
  };
  const flavorsLinks = (req: FastifyRequest, path: string, next?: string, count = 0) =>
    next ? { flavors_links: [{ rel: 'next', href: `${urls(req).versioned}/${path}?limit=${count}&marker=${next}` }] } : {};
  const accessBody = (flavorId: string, projectIds: readonly string[]) => ({ flavor_access: projectIds.map((p) => ({ flavor_id: flavorId, tenant_id: p })) });

  app.get('/flavors', async (req) => {
    const page = await flavors(req);
    return { flavors: page.items.map((f) => flavorSummary(f, urls(req))), ...flavorsLinks(req, 'flavors', page.nextMarker, page.items.length) };
  });
  app.get('/flavors/detail', async (req) => {
    const page = await flavors(req);
    return { flavors: page.items.map((f) => flavorDetail(f, urls(req))), ...flavorsLinks(req, 'flavors/detail', page.nextMarker, page.items.length) };
  });
  app.get<Id>('/flavors/:id', async (req) => ({ flavor: flavorDetail(await getFlavor(req, req.params.id), urls(req)) }));

  app.post('/flavors', { schema: { body: createFlavorBody } }, async (req) => {
    const f = (req.body as { flavor: CreateFlavor }).flavor;
    const isPublic = f['os-flavor-access:is_public'];
    const created = await c.createFlavor(
      {
        id: f.id === undefined || f.id === null ? '' : String(f.id),
        name: f.name,
        ramMb: Number(f.ram),
        vcpus: Number(f.vcpus),
        diskGb: Number(f.disk),
        ephemeralGb: Number(f['OS-FLV-EXT-DATA:ephemeral'] ?? 0),
        swapMb: Number(f.swap ?? 0),
        rxtxFactor: f.rxtx_factor === undefined ? undefined : Number(f.rxtx_factor),
        isPublic: isPublic === undefined ? undefined : parseBool(isPublic),
        extraSpecs: {},
      },
      callContext(req),
    );
    return { flavor: flavorDetail(created.flavor!, urls(req)) };
  });
  app.delete<Id>('/flavors/:id', async (req, reply) => {
    await c.deleteFlavor({ flavorId: req.params.id }, callContext(req));
    return reply.code(202).send();
  });

  app.get<Id>('/flavors/:id/os-extra_specs', async (req) => ({ extra_specs: (await getFlavor(req, req.params.id)).extraSpecs }));
  app.get<IdKey>('/flavors/:id/os-extra_specs/:key', async (req) => {
    const specs = (await getFlavor(req, req.params.id)).extraSpecs;
    if (!(req.params.key in specs)) throw new HttpError(404, `Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`);
    return { [req.params.key]: specs[req.params.key] };
  });
  app.post<Id>('/flavors/:id/os-extra_specs', { schema: { body: createExtraSpecsBody } }, async (req) => {
    const specs = specStrings((req.body as { extra_specs: Record<string, string | number | boolean> }).extra_specs);
    await c.setFlavorExtraSpecs({ flavorId: req.params.id, extraSpecs: specs, unset: [] }, callContext(req));
    return { extra_specs: specs };
  });
  app.put<IdKey>('/flavors/:id/os-extra_specs/:key', { schema: { body: updateExtraSpecBody } }, async (req) => {
    const specs = specStrings(req.body as Record<string, string | number | boolean>);
    if (!(req.params.key in specs)) throw new HttpError(400, 'Request body and URI mismatch');
    await c.setFlavorExtraSpecs({ flavorId: req.params.id, extraSpecs: specs, unset: [] }, callContext(req));
    return specs;
  });
  app.delete<IdKey>('/flavors/:id/os-extra_specs/:key', async (req, reply) => {
    // unsetting an absent key is a no-op for the controller; Nova answers 404, so look first
    const flavor = await getFlavor(req, req.params.id);
    if (!(req.params.key in flavor.extraSpecs)) throw new HttpError(404, `Flavor ${req.params.id} has no extra specs with key ${req.params.key}.`);
    await c.setFlavorExtraSpecs({ flavorId: flavor.id, extraSpecs: {}, unset: [req.params.key] }, callContext(req));
    return reply.code(200).send();
  });

  app.get<Id>('/flavors/:id/os-flavor-access', async (req) => {
    const flavorId = req.params.id;
    return accessBody(flavorId, (await c.listFlavorAccess({ flavorId }, callContext(req))).projectIds);
  });
  app.post<Id>('/flavors/:id/action', { schema: { body: flavorActionBody } }, async (req) => {
    const b = req.body as { addTenantAccess?: { tenant: string }; removeTenantAccess?: { tenant: string } };
    const flavorId = req.params.id;
    const ctx = callContext(req);
    const res: compute.AddFlavorAccessResponse = b.addTenantAccess
      ? await c.addFlavorAccess({ flavorId, projectId: b.addTenantAccess.tenant }, ctx)
      : await c.removeFlavorAccess({ flavorId, projectId: b.removeTenantAccess!.tenant }, ctx);
    return accessBody(flavorId, res.projectIds);
  });
}
