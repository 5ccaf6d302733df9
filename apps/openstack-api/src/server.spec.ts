import type { FastifyInstance } from 'fastify';
import { compute, identity, network } from '@minicloud/proto';
import { InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { createApiMetrics } from './http/app';
import { fakeBackends, httpRequest as request, type RecordedCall as Call } from './http/test-kit';
import { buildServer } from './server';

const server = (over: Partial<compute.Server> = {}): compute.Server =>
  compute.Server.fromPartial({
    id: 's1',
    name: 'web',
    projectId: 'p1',
    userId: 'u1',
    status: 'ACTIVE',
    vmState: compute.VmState.VM_STATE_ACTIVE,
    powerState: compute.PowerState.POWER_STATE_RUNNING,
    flavor: { id: 'm1.tiny', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
    imageId: 'img',
    addresses: [{ networkId: 'n1', networkName: 'demo-net', ipAddress: '10.0.0.5', macAddress: 'fa:16:3e:00:00:01', type: 'fixed' }],
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...over,
  });

describe('the REST front (real HTTP, fake gRPC)', () => {
  let server_: FastifyInstance;
  let calls: Call[];
  let registry: Registry;
  const app = { inject: (opts: Parameters<typeof request>[1]) => request(server_, opts) };

  beforeEach(async () => {
    calls = [];
    registry = new Registry();
    const backends = fakeBackends(calls, {
      listFlavors: () => ({ flavors: [compute.Flavor.fromPartial({ id: 'm1.tiny', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1, isPublic: true })] }),
      getServer: (req: { serverId: string }) => {
        if (req.serverId !== 's1') throw new NotFoundError('server', req.serverId);
        return { server: server({ vmState: compute.VmState.VM_STATE_STOPPED, taskState: compute.TaskState.TASK_STATE_POWERING_ON, status: 'SHUTOFF' }) };
      },
      // pages as the controller does: after `marker` (unknown: INVALID_ARGUMENT naming it), page_size at a time
      listServers: (req: { marker?: string; page?: { pageSize?: number } }) => {
        const all = [server(), server({ id: 's2', name: 'db' }), server({ id: 's3', name: 'web-2' })];
        const start = req.marker ? all.findIndex((s) => s.id === req.marker) + 1 : 0;
        if (req.marker && start === 0) throw new InvalidArgumentError('marker', `marker [${req.marker}] not found`);
        const size = req.page?.pageSize || 100;
        return { servers: all.slice(start, start + size), page: { nextPageToken: start + size < all.length ? String(start + size) : '' } };
      },
      // s1 has two ports, in the groups web and default; the others have none
      listPorts: (req: { deviceIds: string[] }) => ({
        ports: [
          { id: 'p1', deviceId: 's1', securityGroupIds: ['sg-web'] },
          { id: 'p2', deviceId: 's1', securityGroupIds: ['sg-default', 'sg-web'] },
        ].filter((p) => req.deviceIds.includes(p.deviceId)),
        page: { nextPageToken: '' },
      }),
      listSecurityGroups: () => ({ securityGroups: [{ id: 'sg-web', name: 'web' }, { id: 'sg-default', name: 'default' }] }),
      // no floating IP is associated: server views list the fixed addresses only
      listFloatingIps: () => ({ floatingIps: [] }),
      createServer: (_req: unknown, opts?: { token?: string }) => {
        // as every gRPC service: a token identity refused is UNAUTHENTICATED
        if (opts?.token === 'expired') throw new UnauthenticatedError('token expired');
        return { servers: [server(), server({ id: 's2' })], reservationId: 'r-1' };
      },
      deleteServer: (req: { serverId: string }) => {
        throw new NotFoundError('server', req.serverId);
      },
      validateToken: (req: { token: string }) => {
        if (req.token === 'subject') return { info: identity.TokenInfo.fromPartial({ tokenId: 't2', userId: 'u1', userName: 'demo', projectId: 'p1', projectName: 'demo', domainId: 'default', roles: ['member'] }) };
        throw new UnauthenticatedError('token expired');
      },
      revokeToken: () => ({}),
      listNetworks: () => ({ networks: [network.Network.fromPartial({ id: 'n1', name: 'a', projectId: 'p1' }), network.Network.fromPartial({ id: 'n2', name: 'b', projectId: 'p1', shared: true })] }),
      createNetwork: (req: { name: string }) => ({ network: network.Network.fromPartial({ id: 'n3', name: req.name, projectId: 'p1', mtu: 1450, status: 'ACTIVE' }) }),
      authenticate: () => ({
        token: 'tok',
        info: identity.TokenInfo.fromPartial({ tokenId: 't1', userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', domainId: 'default', roles: ['admin', 'member', 'reader'], issuedAt: new Date(0), expiresAt: new Date(3600_000) }),
      }),
      listRoles: () => ({ roles: [{ id: 'r-admin', name: 'admin' }] }),
      listDomains: () => ({ domains: [{ id: 'default', name: 'Default', enabled: true }] }),
    });
    server_ = await buildServer({ backends, region: 'RegionOne', publicUrl: 'http://api.test:5080', logger: silentLogger(), metrics: createApiMetrics(registry) });
    await server_.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(() => server_.close());

  it('passes the caller token and the request id to gRPC and answers with x-openstack-request-id', async () => {
    const res = await app.inject({ method: 'GET', url: '/compute/v2.1/flavors/detail', headers: { 'x-auth-token': 'user-token' } });
    expect(res.statusCode).toBe(200);
    const rid = res.headers['x-openstack-request-id'];
    expect(rid).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(calls[0]).toMatchObject({ method: 'listFlavors', opts: { token: 'user-token', requestId: rid } });
    expect(res.json().flavors[0]).toMatchObject({ id: 'm1.tiny', ram: 512, vcpus: 1, disk: 1, swap: '', 'os-flavor-access:is_public': true });
    expect(res.headers['openstack-api-version']).toBe('compute 2.1');
  });

  it('a server shows Nova states, status and addresses; another project (gRPC NOT_FOUND) is 404 itemNotFound', async () => {
    const s = (await app.inject({ url: '/compute/v2.1/servers/s1' })).json().server;
    expect(s).toMatchObject({ status: 'SHUTOFF', 'OS-EXT-STS:vm_state': 'stopped', 'OS-EXT-STS:task_state': 'powering_on', 'OS-EXT-STS:power_state': 1 });
    expect(s.addresses).toEqual({ 'demo-net': [{ version: 4, addr: '10.0.0.5', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' }] });
    // the union of its ports' groups, by name, in port order
    expect(s.security_groups).toEqual([{ name: 'web' }, { name: 'default' }]);
    const other = await app.inject({ url: '/compute/v2.1/servers/s9' });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ itemNotFound: { code: 404, message: 'server s9 not found' } });
  });

  it('a body of the wrong type or shape is a 400 naming the field; malformed JSON is a 400, never a 500', async () => {
    const post = (payload: string) => app.inject({ method: 'POST', url: '/compute/v2.1/servers', headers: { 'content-type': 'application/json' }, payload });
    const numeric = await post(JSON.stringify({ server: { name: 12345, flavorRef: 'm1.tiny' } }));
    expect(numeric.statusCode).toBe(400);
    expect(numeric.json().badRequest.message).toMatch(/server\.name/);
    expect((await post(JSON.stringify({ server: { name: 'x' } }))).json().badRequest.message).toMatch(/server\.flavorRef.*required/);
    expect((await post(JSON.stringify({ server: { name: 'x', flavorRef: '1', bogus: 1 } }))).json().badRequest.message).toMatch(/server\.bogus/);
    expect((await post(JSON.stringify({ server: { name: 'x', flavorRef: '1', min_count: 0 } }))).statusCode).toBe(400);
    const emptyDelete = await app.inject({ method: 'DELETE', url: '/compute/v2.1/servers/s9', headers: { 'content-type': 'application/json' } });
    expect(emptyDelete.statusCode).toBe(404); // an empty JSON body is no body, as clients send it on DELETE
    const broken = await post('{"server": ');
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toHaveProperty('badRequest');
    const neutron = await app.inject({ method: 'POST', url: '/network/v2.0/subnets', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ subnet: { network_id: 'n1', cidr: 10 } }) });
    expect(neutron.statusCode).toBe(400);
    expect(neutron.json().NeutronError).toMatchObject({ type: 'HTTPBadRequest', message: expect.stringMatching(/subnet\.cidr/) });
    expect(calls.filter((c) => c.method === 'createServer' || c.method === 'createSubnet')).toHaveLength(0);
  });

  it('a refused token is a 401 with keystonemiddleware\'s body and WWW-Authenticate', async () => {
    const res = await app.inject({ method: 'POST', url: '/compute/v2.1/servers', headers: { 'x-auth-token': 'expired' }, payload: { server: { name: 'x', flavorRef: 'm1.tiny' } } });
    // the REST layer passes the token on; the service refuses it
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Keystone uri="http://api.test:5080/identity"');
    expect(res.json().error).toMatchObject({ code: 401, title: 'Unauthorized' });
  });

  it('create maps the body to CreateServer and answers 202 with Location; return_reservation_id answers the reservation', async () => {
    const NET_ID = '0b6ac1f7-2f3b-4f3e-9b1e-5f7b8c1d2e3f';
    const body = { server: { name: 'web', flavorRef: 1, imageRef: 'img', networks: [{ uuid: NET_ID, fixed_ip: '10.0.0.9' }], min_count: '2', metadata: { k: 'v' }, user_data: Buffer.from('#!/bin/sh\necho hi').toString('base64') } };
    const res = await app.inject({ method: 'POST', url: '/compute/v2.1/servers', payload: body });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe('http://api.test:5080/compute/v2.1/servers/s1');
    expect(res.json().server).toMatchObject({ id: 's1', 'OS-DCF:diskConfig': 'MANUAL' });
    expect(calls.find((c) => c.method === 'createServer')?.req).toMatchObject({
      name: 'web',
      flavorRef: '1',
      imageRef: 'img',
      networks: [{ networkId: NET_ID, portId: '', fixedIp: '10.0.0.9' }],
      minCount: 2,
      maxCount: 2,
      metadata: { k: 'v' },
      userData: '#!/bin/sh\necho hi',
    });
    const r = await app.inject({ method: 'POST', url: '/compute/v2.1/servers', payload: { server: { ...body.server, return_reservation_id: true } } });
    expect(r.json()).toEqual({ reservation_id: 'r-1' });
    const badCount = await app.inject({ method: 'POST', url: '/compute/v2.1/servers', payload: { server: { ...body.server, min_count: 3, max_count: 2 } } });
    expect(badCount.json().badRequest.message).toMatch(/server\.max_count/);
  });

  it('an unsupported microversion is a 406; an unknown path a 404 in the API form', async () => {
    const res = await app.inject({ url: '/compute/v2.1/servers', headers: { 'openstack-api-version': 'compute 2.90' } });
    expect(res.statusCode).toBe(406);
    expect(res.json().notAcceptable.message).toBe('Version 2.90 is not supported by the API. Minimum is 2.1 and maximum is 2.2.');
    const missing = await app.inject({ url: '/network/v2.0/nothing-here' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toHaveProperty('NeutronError');
  });

  it('servers list: name is a regular expression, limit/marker page with a next link, a bad marker is 400', async () => {
    const byName = (await app.inject({ url: '/compute/v2.1/servers?name=^web' })).json();
    expect(byName.servers.map((s: { id: string }) => s.id)).toEqual(['s1', 's3']);
    const page = (await app.inject({ url: '/compute/v2.1/servers/detail?limit=1&marker=s1' })).json();
    expect(page.servers.map((s: { id: string }) => s.id)).toEqual(['s2']);
    expect(page.servers_links[0].href).toBe('http://api.test:5080/compute/v2.1/servers/detail?limit=1&marker=s2');
    expect(page.servers[0]).not.toHaveProperty('security_groups'); // no groups: Nova leaves the key out
    // without a filter it serves itself, the page is the controller's: limit and marker passed through
    expect(calls.filter((c) => c.method === 'listServers').at(-1)?.req).toEqual(expect.objectContaining({ marker: 's1', page: { pageSize: 1 } }));
    const last = (await app.inject({ url: '/compute/v2.1/servers?limit=1&marker=s2' })).json();
    expect([last.servers.map((s: { id: string }) => s.id), last.servers_links]).toEqual([['s3'], undefined]);
    // a detailed page reads its servers' groups in one ListPorts and one ListSecurityGroups, not one per server
    calls.length = 0;
    const all = (await app.inject({ url: '/compute/v2.1/servers/detail' })).json().servers;
    expect(all.map((s: { security_groups: unknown }) => s.security_groups)).toEqual([[{ name: 'web' }, { name: 'default' }], undefined, undefined]);
    expect(calls.filter((c) => c.method === 'listPorts').map((c) => c.req)).toEqual([expect.objectContaining({ deviceIds: ['s1', 's2', 's3'] })]);
    expect(calls.filter((c) => c.method === 'listSecurityGroups')).toHaveLength(1);
    // the summary list reads no ports
    calls.length = 0;
    await app.inject({ url: '/compute/v2.1/servers' });
    expect(calls.filter((c) => c.method === 'listPorts')).toHaveLength(0);
    expect((await app.inject({ url: '/compute/v2.1/servers?marker=nope' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/compute/v2.1/servers?limit=-1' })).json().badRequest.message).toMatch(/limit/);
  });

  it('POST /v3/auth/tokens: 201, X-Subject-Token, roles with ids, domain names, the catalog of what is served', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/identity/v3/auth/tokens',
      payload: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'admin' } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-subject-token']).toBe('tok');
    expect(calls.find((c) => c.method === 'authenticate')?.req).toMatchObject({ password: { userName: 'admin', domainId: 'default', password: 'admin' }, projectName: 'admin', projectDomainId: 'default' });
    const t = res.json().token;
    expect(t).toMatchObject({ methods: ['password'], expires_at: '1970-01-01T01:00:00.000000Z', project: { id: 'p1', name: 'admin', domain: { id: 'default', name: 'Default' } } });
    expect(t.roles).toContainEqual({ id: 'r-admin', name: 'admin' });
    expect(t.catalog.map((c: { type: string }) => c.type)).toEqual(['identity', 'compute', 'image', 'network', 'volumev3', 'block-storage']);
    expect(t.catalog[4].endpoints[0].url).toBe('http://api.test:5080/volume/v3/p1');
    expect(t.catalog[1].endpoints).toContainEqual(expect.objectContaining({ interface: 'internal', region: 'RegionOne', region_id: 'RegionOne', url: 'http://api.test:5080/compute/v2.1' }));
    const noCatalog = await app.inject({ method: 'POST', url: '/identity/v3/auth/tokens?nocatalog', payload: { auth: { identity: { methods: ['token'], token: { id: 'tok' } } } } });
    expect(noCatalog.json().token).not.toHaveProperty('catalog');
    expect(calls.filter((c) => c.method === 'authenticate')[1].req).toMatchObject({ token: { token: 'tok' } });
  });

  it('GET/HEAD/DELETE /v3/auth/tokens validate, check and revoke the X-Subject-Token with the caller token', async () => {
    const headers = { 'x-auth-token': 'caller', 'x-subject-token': 'subject' };
    const got = await app.inject({ url: '/identity/v3/auth/tokens?nocatalog', headers });
    expect(got.statusCode).toBe(200);
    expect(got.headers['x-subject-token']).toBe('subject');
    expect(got.json().token).toMatchObject({ user: { name: 'demo' }, project: { id: 'p1' }, roles: [{ name: 'member' }] });
    expect(calls.find((c) => c.method === 'validateToken')).toMatchObject({ req: { token: 'subject' }, opts: { token: 'caller' } });
    expect((await app.inject({ method: 'HEAD', url: '/identity/v3/auth/tokens', headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/identity/v3/auth/tokens', headers })).statusCode).toBe(204);
    expect(calls.find((c) => c.method === 'revokeToken')).toMatchObject({ req: { token: 'subject' }, opts: { token: 'caller' } });
    const none = await app.inject({ url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': 'caller' } });
    expect(none.statusCode).toBe(400);
    expect(none.json().error.message).toMatch(/X-Subject-Token/);
  });

  it("Neutron networks: attribute filters, fields, limit/marker with networks_links, create 201", async () => {
    expect((await app.inject({ url: '/network/v2.0/networks?shared=True&fields=id' })).json()).toEqual({ networks: [{ id: 'n2' }] });
    const page = (await app.inject({ url: '/network/v2.0/networks?limit=1' })).json();
    expect(page.networks.map((x: { id: string }) => x.id)).toEqual(['n1']);
    expect(page.networks_links[0].href).toBe('http://api.test:5080/network/v2.0/networks?limit=1&marker=n1');
    const created = await app.inject({ method: 'POST', url: '/network/v2.0/networks', payload: { network: { name: 'net', 'router:external': false } } });
    expect(created.statusCode).toBe(201);
    expect(created.json().network).toMatchObject({ id: 'n3', name: 'net', mtu: 1450, 'router:external': false, project_id: 'p1', tenant_id: 'p1' });
    const unknownAttr = await app.inject({ method: 'POST', url: '/network/v2.0/networks', payload: { network: { name: 'net', colour: 'red' } } });
    expect(unknownAttr.json().NeutronError.message).toMatch(/network\.colour/);
  });

  it('counts requests by route pattern and status, with a latency histogram', async () => {
    await app.inject({ url: '/compute/v2.1/servers/s1' });
    await app.inject({ url: '/compute/v2.1/servers/s9' });
    const text = await registry.metrics();
    expect(text).toMatch(/minicloud_openstack_api_requests_total\{api="compute",route="\/compute\/v2.1\/servers\/:id",method="GET",status="404"\} 1/);
    expect(text).toMatch(/minicloud_openstack_api_request_seconds_count\{api="compute",route="\/compute\/v2.1\/servers\/:id",method="GET"\} 2/);
  });
});
