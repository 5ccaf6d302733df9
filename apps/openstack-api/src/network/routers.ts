import type { FastifyInstance, FastifyRequest } from 'fastify';
import { network } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { neutronResourceRoutes, type NeutronResource, type NeutronView } from './resource';
import { createBody } from './schemas';
import { neutronTime } from './views';

const id = { type: 'string', minLength: 1, maxLength: 255 } as const;

/** external_gateway_info as neutron-lib's l3 attribute map takes it (network_id required when any is given). */
const gatewayInfo = {
  type: 'object',
  required: ['network_id'],
  properties: {
    network_id: id,
    enable_snat: { type: 'boolean' },
    external_fixed_ips: {
      type: 'array',
      maxItems: 1,
      items: { type: 'object', properties: { subnet_id: id, ip_address: { type: 'string', maxLength: 64 } }, additionalProperties: false },
    },
  },
  additionalProperties: false,
} as const;

/** external_gateway_info as a router takes it: null or {} for none, else the gateway. */
const gatewayInfoOrNone = { anyOf: [{ type: 'null' }, { type: 'object', maxProperties: 0 }, gatewayInfo] } as const;

/** Neutron's POST /routers body: name, admin_state_up, external_gateway_info. */
export const createRouterBody = createBody('router', [], { name: { type: 'string', maxLength: 255 }, admin_state_up: { type: 'boolean' }, external_gateway_info: gatewayInfoOrNone });

/**
 * A router's static routes as neutron-lib's `type:hostroutes` takes them: objects of exactly
 * destination and nexthop (their values are checked by the network service); null is no routes.
 * 128 at most here, the gRPC list limit (the service's own maximum, max_routes, is lower).
 */
const routesSchema = {
  anyOf: [
    { type: 'null' },
    {
      type: 'array',
      maxItems: 128,
      items: {
        type: 'object',
        required: ['destination', 'nexthop'],
        properties: { destination: { type: 'string', maxLength: 64 }, nexthop: { type: 'string', maxLength: 64 } },
        additionalProperties: false,
      },
    },
  ],
} as const;

/** extraroute-atomic's PUT /routers/{id}/add_extraroutes and remove_extraroutes body: {"router": {"routes": [...]}}. */
export const extraRoutesBody = {
  type: 'object',
  required: ['router'],
  properties: { router: { type: 'object', required: ['routes'], properties: { routes: routesSchema }, additionalProperties: false } },
  additionalProperties: false,
} as const;

/** Neutron's PUT /routers/{id} body: external_gateway_info {} or null clears the gateway; routes replaces the static routes. */
export const updateRouterBody = {
  type: 'object',
  required: ['router'],
  properties: {
    router: {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 255 },
        admin_state_up: { type: 'boolean' },
        description: { type: 'string', maxLength: 255 },
        external_gateway_info: gatewayInfoOrNone,
        routes: routesSchema,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

/** PUT /routers/{id}/add_router_interface and remove_router_interface: subnet_id and/or port_id. */
export const routerInterfaceBody = {
  type: 'object',
  properties: { subnet_id: id, port_id: id },
  additionalProperties: false,
} as const;

interface GatewayInfoBody {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: { subnet_id?: string; ip_address?: string }[];
}

/** The parsed POST /routers body. */
export interface CreateRouterBody {
  router: { name?: string; admin_state_up?: boolean; external_gateway_info?: GatewayInfoBody | Record<string, never> | null; project_id?: string; tenant_id?: string };
}

type RoutesBody = { destination: string; nexthop: string }[] | null;

interface UpdateRouterBody {
  router: { name?: string; admin_state_up?: boolean; external_gateway_info?: GatewayInfoBody | Record<string, never> | null; routes?: RoutesBody };
}

const toRoutes = (routes: RoutesBody | undefined) => (routes ?? []).map((r) => ({ destination: r.destination, nexthop: r.nexthop }));

const fixedIps = (g: GatewayInfoBody) => (g.external_fixed_ips ?? []).map((f) => ({ subnetId: f.subnet_id ?? '', ipAddress: f.ip_address ?? '' }));

/**
 * A router as Neutron shows it (core L3 attributes with ext-gw-mode's enable_snat and
 * external_fixed_ips in external_gateway_info, null when there is no gateway; extraroute's routes).
 */
export function routerView(r: network.Router): NeutronView {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.projectId,
    project_id: r.projectId,
    status: r.status || 'ACTIVE',
    admin_state_up: r.adminStateUp,
    external_gateway_info: r.externalNetworkId
      ? { network_id: r.externalNetworkId, enable_snat: r.enableSnat, external_fixed_ips: r.externalIp ? [{ subnet_id: r.externalSubnetId, ip_address: r.externalIp }] : [] }
      : null,
    routes: r.routes.map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
    description: '',
    tags: [],
    created_at: neutronTime(r.createdAt),
    updated_at: neutronTime(r.createdAt),
    revision_number: 1,
  };
}

/** Neutron's answer to add/remove_router_interface: the router's id and project, the port, its subnet and network. */
function interfaceView(res: { router?: network.Router; interface?: network.RouterInterface; networkId: string }): NeutronView {
  const r = res.router!;
  return {
    id: r.id,
    tenant_id: r.projectId,
    project_id: r.projectId,
    port_id: res.interface?.portId ?? '',
    subnet_id: res.interface?.subnetId ?? '',
    subnet_ids: res.interface?.subnetId ? [res.interface.subnetId] : [],
    network_id: res.networkId,
  };
}

/** Routers as NetworkService router calls (create sets the gateway in the same call). */
function routerResource(deps: ApiDeps): NeutronResource<CreateRouterBody> {
  const n = deps.backends.network;
  return {
    name: 'router',
    list: async (_req, ctx) => (await n.listRouters({}, ctx)).routers.map(routerView),
    show: async (routerId, ctx) => routerView((await n.getRouter({ routerId }, ctx)).router!),
    create: {
      schema: createRouterBody,
      run: async ({ router: b }, ctx) => {
        const g = b.external_gateway_info && 'network_id' in b.external_gateway_info ? (b.external_gateway_info as GatewayInfoBody) : undefined;
        const res = await n.createRouter(
          {
            name: b.name ?? '',
            adminStateUp: b.admin_state_up,
            externalNetworkId: g?.network_id ?? '',
            enableSnat: g?.enable_snat,
            externalFixedIps: g ? fixedIps(g) : [],
            projectId: b.project_id ?? b.tenant_id ?? '',
          },
          ctx,
        );
        return routerView(res.router!);
      },
    },
    remove: async (routerId, ctx) => void (await n.deleteRouter({ routerId }, ctx)),
  };
}

/**
 * Neutron's routers under /v2.0: list (filters, fields, paging), show, create, delete
 * ({@link neutronResourceRoutes}); PUT (name, admin_state_up, external_gateway_info set or cleared,
 * routes replaced); PUT add_router_interface / remove_router_interface; extraroute-atomic's PUT
 * add_extraroutes / remove_extraroutes (answer: the router).
 */
export function routerRoutes(api: FastifyInstance, v2Url: (req: FastifyRequest) => string, deps: ApiDeps): NeutronResource<CreateRouterBody> {
  const n = deps.backends.network;
  const resource = routerResource(deps);
  neutronResourceRoutes(api, v2Url, resource);
  api.put<{ Params: { id: string }; Body: UpdateRouterBody }>('/routers/:id', { schema: { body: updateRouterBody } }, async (req) => {
    const ctx = callContext(req);
    const b = req.body.router;
    let router: network.Router | undefined;
    if ('external_gateway_info' in b) {
      const g = b.external_gateway_info && 'network_id' in b.external_gateway_info ? (b.external_gateway_info as GatewayInfoBody) : undefined;
      router = (await n.setRouterGateway({ routerId: req.params.id, externalNetworkId: g?.network_id ?? '', enableSnat: g ? (g.enable_snat ?? true) : false, externalFixedIps: g ? fixedIps(g) : [] }, ctx)).router;
    }
    // after the gateway, so a nexthop on the new gateway's subnet counts as connected (as Neutron's update order)
    if (b.name !== undefined || b.admin_state_up !== undefined || 'routes' in b) {
      const routes = 'routes' in b ? { routes: toRoutes(b.routes), routesUpdate: network.RoutesUpdate.ROUTES_UPDATE_REPLACE } : { routes: [], routesUpdate: network.RoutesUpdate.ROUTES_UPDATE_UNSPECIFIED };
      router = (await n.updateRouter({ routerId: req.params.id, name: b.name, adminStateUp: b.admin_state_up, ...routes }, ctx)).router;
    }
    router ??= (await n.getRouter({ routerId: req.params.id }, ctx)).router;
    return { router: routerView(router!) };
  });
  type InterfaceReq = { Params: { id: string }; Body: { subnet_id?: string; port_id?: string } | null };
  const target = (req: FastifyRequest<InterfaceReq>) => ({ routerId: req.params.id, subnetId: req.body?.subnet_id ?? '', portId: req.body?.port_id ?? '' });
  api.put<InterfaceReq>('/routers/:id/add_router_interface', { schema: { body: routerInterfaceBody } }, async (req) => interfaceView(await n.addRouterInterface(target(req), callContext(req))));
  api.put<InterfaceReq>('/routers/:id/remove_router_interface', { schema: { body: routerInterfaceBody } }, async (req) => interfaceView(await n.removeRouterInterface(target(req), callContext(req))));
  type ExtraRoutesReq = { Params: { id: string }; Body: { router: { routes: RoutesBody } } };
  const extraRoutes = (routesUpdate: network.RoutesUpdate) => async (req: FastifyRequest<ExtraRoutesReq>) => ({
    router: routerView((await n.updateRouter({ routerId: req.params.id, routes: toRoutes(req.body.router.routes), routesUpdate }, callContext(req))).router!),
  });
  api.put<ExtraRoutesReq>('/routers/:id/add_extraroutes', { schema: { body: extraRoutesBody } }, extraRoutes(network.RoutesUpdate.ROUTES_UPDATE_ADD));
  api.put<ExtraRoutesReq>('/routers/:id/remove_extraroutes', { schema: { body: extraRoutesBody } }, extraRoutes(network.RoutesUpdate.ROUTES_UPDATE_REMOVE));
  return resource;
}
