import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { network } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { neutronResourceRoutes, type NeutronResource, type NeutronView } from './resource';
import { createBody } from './schemas';
import { neutronTime } from './views';

const id = { type: 'string', minLength: 1, maxLength: 255 } as const;
const ip = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** Neutron's POST /floatingips body (l3's floatingip attribute map). */
export const createFloatingIpBody = createBody('floatingip', ['floating_network_id'], {
  floating_network_id: id,
  port_id: { anyOf: [{ type: 'null' }, id] },
  fixed_ip_address: { anyOf: [{ type: 'null' }, ip] },
  floating_ip_address: ip,
});

/** Neutron's PUT /floatingips/{id} body: port_id null disassociates; no port_id keeps the association. */
export const updateFloatingIpBody = {
  type: 'object',
  required: ['floatingip'],
  properties: {
    floatingip: {
      type: 'object',
      properties: { port_id: { anyOf: [{ type: 'null' }, id] }, fixed_ip_address: { anyOf: [{ type: 'null' }, ip] }, description: { type: 'string', maxLength: 255 } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** The parsed POST /floatingips body. */
export interface CreateFloatingIpBody {
  floatingip: { floating_network_id: string; port_id?: string | null; fixed_ip_address?: string | null; floating_ip_address?: string; project_id?: string; tenant_id?: string };
}

interface UpdateFloatingIpBody {
  floatingip: { port_id?: string | null; fixed_ip_address?: string | null };
}

/** A floating IP as Neutron shows it (port_id, fixed_ip_address and router_id null when not associated). */
export function floatingIpView(f: network.FloatingIp): NeutronView {
  return {
    id: f.id,
    tenant_id: f.projectId,
    project_id: f.projectId,
    floating_network_id: f.floatingNetworkId,
    floating_ip_address: f.floatingIpAddress,
    port_id: f.portId || null,
    fixed_ip_address: f.fixedIpAddress || null,
    router_id: f.routerId || null,
    status: f.status || 'DOWN',
    description: '',
    tags: [],
    created_at: neutronTime(f.createdAt),
    updated_at: neutronTime(f.createdAt),
    revision_number: 1,
  };
}

/** Floating IPs as NetworkService floating IP calls. */
function floatingIpResource(deps: ApiDeps): NeutronResource<CreateFloatingIpBody> {
  const n = deps.backends.network;
  return {
    name: 'floatingip',
    list: async (_req, ctx) => (await n.listFloatingIps({}, ctx)).floatingIps.map(floatingIpView),
    show: async (floatingIpId, ctx) => floatingIpView((await n.getFloatingIp({ floatingIpId }, ctx)).floatingIp!),
    create: {
      schema: createFloatingIpBody,
      run: async ({ floatingip: b }, ctx) =>
        floatingIpView(
          (
            await n.createFloatingIp(
              {
                floatingNetworkId: b.floating_network_id,
                portId: b.port_id ?? '',
                fixedIpAddress: b.fixed_ip_address ?? '',
                floatingIpAddress: b.floating_ip_address ?? '',
                projectId: b.project_id ?? b.tenant_id ?? '',
              },
              ctx,
            )
          ).floatingIp!,
        ),
    },
    remove: async (floatingIpId, ctx) => void (await n.deleteFloatingIp({ floatingIpId }, ctx)),
  };
}

/**
 * Neutron's floating IPs under /v2.0: list (filters, fields, paging), show, create, delete
 * ({@link neutronResourceRoutes}); PUT associates (port_id, optional fixed_ip_address) or
 * disassociates (port_id null).
 */
export function floatingIpRoutes(api: FastifyInstance, v2Url: (req: FastifyRequest) => string, deps: ApiDeps): NeutronResource<CreateFloatingIpBody> {
  const n = deps.backends.network;
  const resource = floatingIpResource(deps);
  neutronResourceRoutes(api, v2Url, resource);
  api.put<{ Params: { id: string }; Body: UpdateFloatingIpBody }>('/floatingips/:id', { schema: { body: updateFloatingIpBody } }, async (req) => {
    const ctx = callContext(req);
    const b = req.body.floatingip;
    if (!('port_id' in b)) return { floatingip: floatingIpView((await n.getFloatingIp({ floatingIpId: req.params.id }, ctx)).floatingIp!) };
    const res = await n.updateFloatingIp({ floatingIpId: req.params.id, portId: b.port_id ?? '', fixedIpAddress: b.fixed_ip_address ?? '' }, ctx);
    return { floatingip: floatingIpView(res.floatingIp!) };
  });
  return resource;
}
