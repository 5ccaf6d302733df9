import type { FastifyInstance } from 'fastify';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { network } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: p1's member, p2's member. */
const TOKENS: Record<string, { projectId: string }> = { t1: { projectId: 'p1' }, t2: { projectId: 'p2' } };

/** An in-memory L3 backend with the network service's project scoping and router rules. */
function fakeL3() {
  const routers = new Map<string, network.Router>();
  const fips = new Map<string, network.FloatingIp>();
  const pools = new Map<string, network.SubnetPool>();
  let n = 0;
  const caller = fakeCaller(TOKENS);
  const mine = <T extends { projectId: string }>(m: Map<string, T>, kind: string, id: string, opts: Call['opts']): T => {
    const v = m.get(id);
    if (!v || v.projectId !== caller(opts).projectId) throw new NotFoundError(kind, id);
    return v;
  };
  const gateway = (r: network.Router, externalNetworkId: string, enableSnat: boolean) => {
    if (externalNetworkId && externalNetworkId !== 'public') throw new InvalidArgumentError('external_network_id', `network ${externalNetworkId} is not router:external`);
    Object.assign(r, { externalNetworkId, enableSnat: externalNetworkId ? enableSnat : false, externalIp: externalNetworkId ? '172.24.4.10' : '', externalSubnetId: externalNetworkId ? 'pub-sub' : '' });
  };
  const impl = {
    createRouter: (req: network.CreateRouterRequest, opts: Call['opts']) => {
      const r = network.Router.fromPartial({ id: `r${++n}`, name: req.name, projectId: caller(opts).projectId, adminStateUp: req.adminStateUp ?? true, status: 'ACTIVE', createdAt: new Date(Date.UTC(2026, 0, 1)) });
      gateway(r, req.externalNetworkId, req.enableSnat ?? true);
      routers.set(r.id, r);
      return { router: r };
    },
    getRouter: (req: { routerId: string }, opts: Call['opts']) => ({ router: mine(routers, 'router', req.routerId, opts) }),
    listRouters: (_: unknown, opts: Call['opts']) => ({ routers: [...routers.values()].filter((r) => r.projectId === caller(opts).projectId) }),
    updateRouter: (req: network.UpdateRouterRequest, opts: Call['opts']) => {
      const r = mine(routers, 'router', req.routerId, opts);
      if (req.name !== undefined) r.name = req.name;
      if (req.adminStateUp !== undefined) r.adminStateUp = req.adminStateUp;
      const key = (x: network.RouterRoute) => `${x.destination} ${x.nexthop}`;
      if (req.routes.some((x) => x.nexthop === '10.99.0.5')) throw new InvalidArgumentError('routes', 'the nexthop is not connected with router');
      if (req.routesUpdate === network.RoutesUpdate.ROUTES_UPDATE_REPLACE) r.routes = req.routes;
      if (req.routesUpdate === network.RoutesUpdate.ROUTES_UPDATE_ADD) r.routes = [...r.routes, ...req.routes.filter((x) => !r.routes.some((y) => key(x) === key(y)))];
      if (req.routesUpdate === network.RoutesUpdate.ROUTES_UPDATE_REMOVE) r.routes = r.routes.filter((x) => !req.routes.some((y) => key(x) === key(y)));
      return { router: r };
    },
    setRouterGateway: (req: network.SetRouterGatewayRequest, opts: Call['opts']) => {
      const r = mine(routers, 'router', req.routerId, opts);
      gateway(r, req.externalNetworkId, req.enableSnat);
      return { router: r };
    },
    deleteRouter: (req: { routerId: string }, opts: Call['opts']) => {
      const r = mine(routers, 'router', req.routerId, opts);
      if (r.interfaces.length) throw new FailedPreconditionError(`Router ${r.id} still has ports`, 'router_in_use');
      routers.delete(r.id);
      return {};
    },
    addRouterInterface: (req: network.AddRouterInterfaceRequest, opts: Call['opts']) => {
      const r = mine(routers, 'router', req.routerId, opts);
      if (!req.subnetId === !req.portId) throw new InvalidArgumentError('subnet_id', 'subnet_id or port_id is required');
      const iface = { subnetId: req.subnetId || 'sub-of-port', portId: req.portId || `port-${++n}` };
      r.interfaces.push(iface);
      return { router: r, interface: iface, networkId: 'net-1' };
    },
    removeRouterInterface: (req: network.RemoveRouterInterfaceRequest, opts: Call['opts']) => {
      const r = mine(routers, 'router', req.routerId, opts);
      const iface = r.interfaces.find((i) => i.subnetId === req.subnetId || i.portId === req.portId);
      if (!iface) throw new NotFoundError('router_interface', req.subnetId || req.portId);
      if (r.routes.length) throw new FailedPreconditionError(`router interface on subnet ${iface.subnetId} is required by one or more routes`, 'router_interface_in_use_by_route');
      r.interfaces = r.interfaces.filter((i) => i !== iface);
      return { router: r, interface: iface, networkId: 'net-1' };
    },
    createFloatingIp: (req: network.CreateFloatingIpRequest, opts: Call['opts']) => {
      const f = network.FloatingIp.fromPartial({ id: `f${++n}`, projectId: caller(opts).projectId, floatingNetworkId: req.floatingNetworkId, floatingIpAddress: '172.24.4.20', status: 'DOWN', createdAt: new Date(Date.UTC(2026, 0, 2)) });
      fips.set(f.id, f);
      return { floatingIp: f };
    },
    getFloatingIp: (req: { floatingIpId: string }, opts: Call['opts']) => ({ floatingIp: mine(fips, 'floating_ip', req.floatingIpId, opts) }),
    listFloatingIps: (_: unknown, opts: Call['opts']) => ({ floatingIps: [...fips.values()].filter((f) => f.projectId === caller(opts).projectId) }),
    updateFloatingIp: (req: network.UpdateFloatingIpRequest, opts: Call['opts']) => {
      const f = mine(fips, 'floating_ip', req.floatingIpId, opts);
      if (req.portId === 'lonely') throw new NotFoundError('external_gateway_for_floating_ip', f.floatingNetworkId, 'not reachable');
      Object.assign(f, { portId: req.portId, fixedIpAddress: req.portId ? req.fixedIpAddress || '10.0.0.5' : '', routerId: req.portId ? 'r1' : '', status: req.portId ? 'ACTIVE' : 'DOWN' });
      return { floatingIp: f };
    },
    createSubnetPool: (req: network.CreateSubnetPoolRequest, opts: Call['opts']) => {
      const p = network.SubnetPool.fromPartial({ id: `sp${++n}`, name: req.name, projectId: caller(opts).projectId, prefixes: req.prefixes, minPrefixlen: req.minPrefixlen ?? 8, maxPrefixlen: req.maxPrefixlen ?? 32, defaultPrefixlen: req.defaultPrefixlen ?? req.minPrefixlen ?? 8, ipVersion: 4 });
      pools.set(p.id, p);
      return { subnetPool: p };
    },
    getSubnetPool: (req: { subnetPoolId: string }, opts: Call['opts']) => ({ subnetPool: mine(pools, 'subnet_pool', req.subnetPoolId, opts) }),
    listSubnetPools: (_: unknown, opts: Call['opts']) => ({ subnetPools: [...pools.values()].filter((p) => p.projectId === caller(opts).projectId) }),
    updateSubnetPool: (req: network.UpdateSubnetPoolRequest, opts: Call['opts']) => {
      const p = mine(pools, 'subnet_pool', req.subnetPoolId, opts);
      if (req.name !== undefined) p.name = req.name;
      if (req.prefixes.length) p.prefixes = req.prefixes;
      return { subnetPool: p };
    },
    deleteSubnetPool: (req: { subnetPoolId: string }, opts: Call['opts']) => {
      pools.delete(mine(pools, 'subnet_pool', req.subnetPoolId, opts).id);
      return {};
    },
    createSubnet: (req: network.CreateSubnetRequest, opts: Call['opts']) => ({
      subnet: network.Subnet.fromPartial({ id: 'sub-pooled', networkId: req.networkId, projectId: caller(opts).projectId, cidr: req.cidr || `10.9.0.0/${req.prefixlen || 24}`, subnetpoolId: req.subnetpoolId, ipVersion: 4 }),
    }),
    deleteFloatingIp: (req: { floatingIpId: string }, opts: Call['opts']) => {
      fips.delete(mine(fips, 'floating_ip', req.floatingIpId, opts).id);
      return {};
    },
  };
  return impl as unknown as Record<string, (req: never, opts: Call['opts']) => unknown>;
}

describe('Neutron L3 over HTTP (routers, floating IPs)', () => {
  let app: FastifyInstance;
  const calls: Call[] = [];
  const as = (token: string, method: string, url: string, payload?: unknown) => requestAs(app, { method, url: `/network/v2.0${url}`, payload }, token);

  beforeAll(async () => {
    app = await listenFront(fakeBackends(calls, fakeL3()));
  });
  afterAll(() => app.close());

  it('creates a router with a gateway (201, external_gateway_info with enable_snat and external_fixed_ips), lists with filters and fields, shows', async () => {
    const res = await as('t1', 'POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: 'public' } } });
    expect(res.statusCode).toBe(201);
    const r = res.json().router;
    expect(r).toMatchObject({
      name: 'r', project_id: 'p1', tenant_id: 'p1', status: 'ACTIVE', admin_state_up: true,
      external_gateway_info: { network_id: 'public', enable_snat: true, external_fixed_ips: [{ subnet_id: 'pub-sub', ip_address: '172.24.4.10' }] },
    });
    expect(calls.at(-1)).toMatchObject({ method: 'createRouter', req: { name: 'r', externalNetworkId: 'public', enableSnat: undefined, externalFixedIps: [] } });
    await as('t1', 'POST', '/routers', { router: { name: 'plain', admin_state_up: false } });
    expect((await as('t1', 'GET', '/routers?name=plain&fields=name&fields=external_gateway_info')).json()).toEqual({ routers: [{ name: 'plain', external_gateway_info: null }] });
    expect((await as('t1', 'GET', `/routers/${r.id}`)).json().router.id).toBe(r.id);
    const page = (await as('t1', 'GET', '/routers?limit=1')).json();
    expect(page.routers).toHaveLength(1);
    expect(page.routers_links[0].rel).toBe('next');
  });

  it('refuses a malformed body naming the field, an unknown attribute, a non-external gateway, and another project\'s router (404 RouterNotFound)', async () => {
    const bad = await as('t1', 'POST', '/routers', { router: { name: 5 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().NeutronError.message).toMatch(/router\.name/);
    expect((await as('t1', 'POST', '/routers', { router: { distributed: true } })).statusCode).toBe(400);
    expect((await as('t1', 'POST', '/routers', { router: { external_gateway_info: { enable_snat: true } } })).statusCode).toBe(400);
    const notExt = await as('t1', 'POST', '/routers', { router: { external_gateway_info: { network_id: 'private' } } });
    expect(notExt.statusCode).toBe(400);
    expect(notExt.json().NeutronError.message).toMatch(/external_network_id|not router:external/);
    const r = (await as('t1', 'POST', '/routers', { router: { name: 'x' } })).json().router;
    const other = await as('t2', 'GET', `/routers/${r.id}`);
    expect(other.statusCode).toBe(404);
    expect(other.json().NeutronError.type).toBe('RouterNotFound');
    expect((await as('', 'GET', '/routers')).statusCode).toBe(401);
  });

  it('updates name and admin_state_up, sets and clears the gateway (null or {})', async () => {
    const empty = await as('t1', 'POST', '/routers', { router: { name: 'u', external_gateway_info: {} } });
    expect(empty.statusCode).toBe(201);
    expect(calls.at(-1)).toMatchObject({ method: 'createRouter', req: { externalNetworkId: '' } });
    const r = empty.json().router;
    expect(r.external_gateway_info).toBeNull();
    const set = await as('t1', 'PUT', `/routers/${r.id}`, { router: { name: 'u2', external_gateway_info: { network_id: 'public', enable_snat: false } } });
    expect(set.statusCode).toBe(200);
    expect(set.json().router).toMatchObject({ name: 'u2', external_gateway_info: { network_id: 'public', enable_snat: false } });
    expect((await as('t1', 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: {} } })).json().router.external_gateway_info).toBeNull();
    await as('t1', 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: { network_id: 'public' } } });
    expect((await as('t1', 'PUT', `/routers/${r.id}`, { router: { external_gateway_info: null } })).json().router.external_gateway_info).toBeNull();
    expect((await as('t1', 'PUT', `/routers/${r.id}`, { router: { admin_state_up: 'no' } })).statusCode).toBe(400);
    expect((await as('t1', 'PUT', `/routers/${r.id}`, { router: { admin_state_up: false } })).json().router.admin_state_up).toBe(false);
  });

  it('adds and removes interfaces with Neutron\'s answer body; a router with interfaces is 409 RouterInUse', async () => {
    const r = (await as('t1', 'POST', '/routers', { router: { name: 'i' } })).json().router;
    const add = await as('t1', 'PUT', `/routers/${r.id}/add_router_interface`, { subnet_id: 's1' });
    expect(add.statusCode).toBe(200);
    expect(add.json()).toEqual({ id: r.id, tenant_id: 'p1', project_id: 'p1', port_id: expect.any(String), subnet_id: 's1', subnet_ids: ['s1'], network_id: 'net-1' });
    expect((await as('t1', 'PUT', `/routers/${r.id}/add_router_interface`, {})).statusCode).toBe(400);
    expect((await as('t1', 'PUT', `/routers/${r.id}/add_router_interface`, { subnet: 's1' })).statusCode).toBe(400);
    const inUse = await as('t1', 'DELETE', `/routers/${r.id}`);
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json().NeutronError.type).toBe('RouterInUse');
    const missing = await as('t1', 'PUT', `/routers/${r.id}/remove_router_interface`, { subnet_id: 'nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().NeutronError.type).toBe('RouterInterfaceNotFound');
    expect((await as('t1', 'PUT', `/routers/${r.id}/remove_router_interface`, { port_id: add.json().port_id })).json()).toMatchObject({ id: r.id, subnet_id: 's1' });
    expect((await as('t1', 'DELETE', `/routers/${r.id}`)).statusCode).toBe(204);
  });

  it('static routes: PUT routes replaces (router views carry routes), null clears, add_extraroutes / remove_extraroutes answer the router; bad routes 400; RouterInterfaceInUseByRoute 409', async () => {
    const r = (await as('t1', 'POST', '/routers', { router: { name: 'sr' } })).json().router;
    expect(r.routes).toEqual([]);
    const add = await as('t1', 'PUT', `/routers/${r.id}/add_router_interface`, { subnet_id: 's9' });
    const r1 = { destination: '192.168.10.0/24', nexthop: '10.0.0.5' };
    const r2 = { destination: '192.168.20.0/24', nexthop: '10.0.0.6' };
    const set = await as('t1', 'PUT', `/routers/${r.id}`, { router: { routes: [r1] } });
    expect(set.statusCode).toBe(200);
    expect(set.json().router.routes).toEqual([r1]);
    expect(calls.at(-1)).toMatchObject({ method: 'updateRouter', req: { routerId: r.id, routes: [r1], routesUpdate: network.RoutesUpdate.ROUTES_UPDATE_REPLACE } });
    expect((await as('t1', 'GET', `/routers/${r.id}`)).json().router.routes).toEqual([r1]);
    const added = await as('t1', 'PUT', `/routers/${r.id}/add_extraroutes`, { router: { routes: [r1, r2] } });
    expect(added.statusCode).toBe(200);
    expect(added.json().router).toMatchObject({ id: r.id, routes: [r1, r2] });
    expect((await as('t1', 'PUT', `/routers/${r.id}/remove_extraroutes`, { router: { routes: [r1] } })).json().router.routes).toEqual([r2]);
    const inUse = await as('t1', 'PUT', `/routers/${r.id}/remove_router_interface`, { port_id: add.json().port_id });
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json().NeutronError.type).toBe('RouterInterfaceInUseByRoute');
    const off = await as('t1', 'PUT', `/routers/${r.id}`, { router: { routes: [{ destination: '192.168.30.0/24', nexthop: '10.99.0.5' }] } });
    expect(off.statusCode).toBe(400);
    expect(off.json().NeutronError.message).toMatch(/not connected with router/);
    for (const bad of [[{ destination: '192.168.30.0/24' }], [{ destination: '192.168.30.0/24', nexthop: '10.0.0.5', metric: 1 }], 'x', [{ destination: 5, nexthop: '10.0.0.5' }]]) {
      expect((await as('t1', 'PUT', `/routers/${r.id}`, { router: { routes: bad } })).statusCode).toBe(400);
    }
    expect((await as('t1', 'PUT', `/routers/${r.id}/add_extraroutes`, { router: {} })).statusCode).toBe(400);
    expect((await as('t2', 'PUT', `/routers/${r.id}/add_extraroutes`, { router: { routes: [r1] } })).statusCode).toBe(404);
    expect((await as('', 'PUT', `/routers/${r.id}/add_extraroutes`, { router: { routes: [r1] } })).statusCode).toBe(401);
    expect((await as('t1', 'PUT', `/routers/${r.id}`, { router: { routes: null } })).json().router.routes).toEqual([]);
    expect((await as('t1', 'PUT', `/routers/${r.id}/remove_router_interface`, { port_id: add.json().port_id })).statusCode).toBe(200);
  });

  it('floating IPs: create 201 with nulls when not associated, associate and disassociate by PUT, 404 ExternalGatewayForFloatingIPNotFound, delete 204', async () => {
    const res = await as('t1', 'POST', '/floatingips', { floatingip: { floating_network_id: 'public' } });
    expect(res.statusCode).toBe(201);
    const f = res.json().floatingip;
    expect(f).toMatchObject({ floating_network_id: 'public', floating_ip_address: '172.24.4.20', port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', project_id: 'p1' });
    expect((await as('t1', 'POST', '/floatingips', { floatingip: {} })).statusCode).toBe(400);
    const assoc = await as('t1', 'PUT', `/floatingips/${f.id}`, { floatingip: { port_id: 'p-1', fixed_ip_address: '10.0.0.7' } });
    expect(assoc.json().floatingip).toMatchObject({ port_id: 'p-1', fixed_ip_address: '10.0.0.7', router_id: 'r1', status: 'ACTIVE' });
    expect((await as('t1', 'GET', '/floatingips?port_id=p-1')).json().floatingips.map((x: { id: string }) => x.id)).toEqual([f.id]);
    const unreachable = await as('t1', 'PUT', `/floatingips/${f.id}`, { floatingip: { port_id: 'lonely' } });
    expect(unreachable.statusCode).toBe(404);
    expect(unreachable.json().NeutronError.type).toBe('ExternalGatewayForFloatingIPNotFound');
    expect((await as('t1', 'PUT', `/floatingips/${f.id}`, { floatingip: { port_id: null } })).json().floatingip).toMatchObject({ port_id: null, status: 'DOWN' });
    const other = await as('t2', 'GET', `/floatingips/${f.id}`);
    expect(other.statusCode).toBe(404);
    expect(other.json().NeutronError.type).toBe('FloatingIPNotFound');
    expect((await as('t1', 'DELETE', `/floatingips/${f.id}`)).statusCode).toBe(204);
  });

  it('subnet pools: create 201, show, PUT name and prefixes, another project 404, delete 204; a subnet from a pool with prefixlen and no cidr', async () => {
    const res = await as('t1', 'POST', '/subnetpools', { subnetpool: { name: 'sp', prefixes: ['10.9.0.0/16'], default_prefixlen: 24 } });
    expect(res.statusCode).toBe(201);
    const p = res.json().subnetpool;
    expect(p).toMatchObject({ name: 'sp', prefixes: ['10.9.0.0/16'], default_prefixlen: 24, min_prefixlen: 8, max_prefixlen: 32, ip_version: 4, shared: false, is_default: false, project_id: 'p1' });
    expect((await as('t1', 'POST', '/subnetpools', { subnetpool: { name: 'none' } })).statusCode).toBe(400);
    expect((await as('t1', 'POST', '/subnetpools', { subnetpool: { prefixes: ['10.9.0.0/16'], min_prefixlen: 33 } })).statusCode).toBe(400);
    const upd = await as('t1', 'PUT', `/subnetpools/${p.id}`, { subnetpool: { name: 'sp2', prefixes: ['10.9.0.0/15'] } });
    expect(upd.json().subnetpool).toMatchObject({ name: 'sp2', prefixes: ['10.9.0.0/15'] });
    expect(calls.at(-1)).toMatchObject({ method: 'updateSubnetPool', req: { name: 'sp2', prefixes: ['10.9.0.0/15'], isDefault: undefined } });
    const other = await as('t2', 'GET', `/subnetpools/${p.id}`);
    expect(other.statusCode).toBe(404);
    expect(other.json().NeutronError.type).toBe('SubnetPoolNotFound');
    const sub = await as('t1', 'POST', '/subnets', { subnet: { network_id: 'net-1', subnetpool_id: p.id, prefixlen: '26', ip_version: 4 } });
    expect(sub.statusCode).toBe(201);
    expect((await as('t1', 'POST', '/subnets', { subnet: { network_id: 'net-1', subnetpool_id: p.id, prefixlen: 'x' } })).statusCode).toBe(400);
    expect(sub.json().subnet).toMatchObject({ cidr: '10.9.0.0/26', subnetpool_id: p.id });
    expect(calls.filter((c) => c.method === 'createSubnet').at(-1)).toMatchObject({ method: 'createSubnet', req: { cidr: '', subnetpoolId: p.id, prefixlen: 26 } });
    expect((await as('t1', 'DELETE', `/subnetpools/${p.id}`)).statusCode).toBe(204);
  });

  it('lists the L3 extensions and resources it serves', async () => {
    const aliases = (await as('t1', 'GET', '/extensions')).json().extensions.map((e: { alias: string }) => e.alias);
    expect(aliases).toEqual(expect.arrayContaining(['router', 'ext-gw-mode', 'external-net', 'subnet_allocation', 'extraroute', 'extraroute-atomic']));
    const collections = (await as('t1', 'GET', '/')).json().resources.map((r: { collection: string }) => r.collection);
    expect(collections).toEqual(expect.arrayContaining(['routers', 'floatingips', 'subnetpools']));
  });
});
