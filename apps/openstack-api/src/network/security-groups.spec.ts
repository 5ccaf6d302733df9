import type { FastifyInstance } from 'fastify';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { identity, network } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: p1's member, p2's member. */
const TOKENS: Record<string, { projectId: string }> = { t1: { projectId: 'p1' }, t2: { projectId: 'p2' } };

/** An in-memory network service with the gRPC service's project scoping, for groups, rules, networks and ports. */
function fakeNetwork() {
  const groups = new Map<string, network.SecurityGroup>();
  const nets = new Map<string, network.Network>();
  const ports = new Map<string, network.Port>();
  let n = 0;
  const caller = fakeCaller(TOKENS);
  const group = (id: string, opts: Call['opts']) => {
    const g = groups.get(id);
    if (!g || g.projectId !== caller(opts).projectId) throw new NotFoundError('security_group', id);
    return g;
  };
  const net = (id: string, opts: Call['opts']) => {
    const x = nets.get(id);
    if (!x || x.projectId !== caller(opts).projectId) throw new NotFoundError('network', id);
    return x;
  };
  const impl = {
    validateToken: (_: unknown, opts: Call['opts']) => ({ info: identity.TokenInfo.fromPartial({ projectId: caller(opts).projectId }) }),
    createSecurityGroup: (req: network.CreateSecurityGroupRequest, opts: Call['opts']) => {
      if (req.name === 'default') throw new AlreadyExistsError('security_group', 'default');
      const g = network.SecurityGroup.fromPartial({ id: `sg${++n}`, name: req.name, description: req.description, projectId: caller(opts).projectId, stateful: true });
      g.rules = ['IPv4', 'IPv6'].map((e) => network.SecurityGroupRule.fromPartial({ id: `r${++n}`, securityGroupId: g.id, direction: 'egress', ethertype: e }));
      groups.set(g.id, g);
      return { securityGroup: g };
    },
    getSecurityGroup: (req: { securityGroupId: string }, opts: Call['opts']) => ({ securityGroup: group(req.securityGroupId, opts) }),
    listSecurityGroups: (_: unknown, opts: Call['opts']) => ({ securityGroups: [...groups.values()].filter((g) => g.projectId === caller(opts).projectId) }),
    updateSecurityGroup: (req: network.UpdateSecurityGroupRequest, opts: Call['opts']) => {
      const g = group(req.securityGroupId, opts);
      if (req.name !== undefined) g.name = req.name;
      if (req.description !== undefined) g.description = req.description;
      return { securityGroup: g };
    },
    deleteSecurityGroup: (req: { securityGroupId: string }, opts: Call['opts']) => {
      const g = group(req.securityGroupId, opts);
      if ([...ports.values()].some((p) => p.securityGroupIds.includes(g.id))) throw new FailedPreconditionError(`security group ${g.id} is in use by ports`, 'security_group_in_use');
      groups.delete(g.id);
      return {};
    },
    createSecurityGroupRule: (req: network.CreateSecurityGroupRuleRequest, opts: Call['opts']) => {
      const r = req.rule!;
      const g = group(r.securityGroupId, opts);
      if (r.remoteGroupId && r.remoteIpPrefix) throw new InvalidArgumentError('remote_group_id', 'remote_group_id and remote_ip_prefix are mutually exclusive');
      const same = g.rules.find((x) => x.direction === r.direction && x.protocol === r.protocol && x.portRangeMin === r.portRangeMin && x.portRangeMax === r.portRangeMax && x.ethertype === r.ethertype);
      if (same) throw new AlreadyExistsError('security_group_rule', same.id);
      const rule = { ...r, id: `r${++n}` };
      g.rules.push(rule);
      return { rule };
    },
    deleteSecurityGroupRule: (req: { ruleId: string }, opts: Call['opts']) => {
      const g = [...groups.values()].find((x) => x.projectId === caller(opts).projectId && x.rules.some((r) => r.id === req.ruleId));
      if (!g) throw new NotFoundError('security_group_rule', req.ruleId);
      g.rules = g.rules.filter((r) => r.id !== req.ruleId);
      return {};
    },
    createNetwork: (req: network.CreateNetworkRequest, opts: Call['opts']) => {
      if (req.name === 'bad') throw new InvalidArgumentError('name', 'is refused by this fake');
      const x = network.Network.fromPartial({ id: `n${++n}`, name: req.name, projectId: caller(opts).projectId, adminStateUp: true, mtu: 1450 });
      nets.set(x.id, x);
      return { network: x };
    },
    getNetwork: (req: { networkId: string }, opts: Call['opts']) => ({ network: net(req.networkId, opts) }),
    listNetworks: (_: unknown, opts: Call['opts']) => ({ networks: [...nets.values()].filter((x) => x.projectId === caller(opts).projectId), page: { nextPageToken: '' } }),
    updateNetwork: (req: network.UpdateNetworkRequest, opts: Call['opts']) => {
      const x = net(req.networkId, opts);
      if (req.name !== undefined) x.name = req.name;
      if (req.adminStateUp !== undefined) x.adminStateUp = req.adminStateUp;
      return { network: x };
    },
    deleteNetwork: (req: { networkId: string }, opts: Call['opts']) => {
      nets.delete(net(req.networkId, opts).id);
      return {};
    },
    updatePort: (req: network.UpdatePortRequest, opts: Call['opts']) => {
      const p = ports.get(req.portId);
      if (!p || p.projectId !== caller(opts).projectId) throw new NotFoundError('port', req.portId);
      if (req.replaceSecurityGroups) p.securityGroupIds = req.securityGroupIds;
      return { port: p };
    },
  };
  return { impl, groups, nets, ports };
}

describe('Neutron security groups, updates, bulk create, sorting and error bodies over the REST front', () => {
  let app: FastifyInstance;
  let calls: Call[];
  let fake: ReturnType<typeof fakeNetwork>;
  const as = (token: string, method: string, url: string, payload?: unknown) => requestAs(app, { method, url: `/network/v2.0${url}`, payload }, token);

  beforeEach(async () => {
    calls = [];
    fake = fakeNetwork();
    app = await listenFront(fakeBackends(calls, fake.impl as never));
  });
  afterEach(() => app.close());

  it('creates a group (201, with its egress rules), shows, renames with PUT, lists with fields, and deletes (204)', async () => {
    const created = await as('t1', 'POST', '/security-groups', { security_group: { name: 'web', description: 'front' } });
    expect(created.statusCode).toBe(201);
    const sg = created.json().security_group;
    expect(sg).toMatchObject({ name: 'web', description: 'front', project_id: 'p1', tenant_id: 'p1', stateful: true });
    expect(sg.security_group_rules).toEqual([
      expect.objectContaining({ direction: 'egress', ethertype: 'IPv4', protocol: null, port_range_min: null, remote_ip_prefix: null, security_group_id: sg.id, project_id: 'p1' }),
      expect.objectContaining({ direction: 'egress', ethertype: 'IPv6' }),
    ]);
    const put = await as('t1', 'PUT', `/security-groups/${sg.id}`, { security_group: { name: 'web2', description: 'd2' } });
    expect(put.statusCode).toBe(200);
    expect(put.json().security_group).toMatchObject({ id: sg.id, name: 'web2', description: 'd2' });
    expect((await as('t1', 'GET', `/security-groups/${sg.id}?fields=name`)).json()).toEqual({ security_group: { name: 'web2' } });
    expect((await as('t1', 'GET', '/security-groups?name=web2&fields=id&fields=name')).json()).toEqual({ security_groups: [{ id: sg.id, name: 'web2' }] });
    expect((await as('t1', 'DELETE', `/security-groups/${sg.id}`)).statusCode).toBe(204);
    const gone = await as('t1', 'GET', `/security-groups/${sg.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().NeutronError).toMatchObject({ type: 'SecurityGroupNotFound', detail: '' });
  });

  it("hides another project's group (404), and refuses a call without credentials (401)", async () => {
    const sg = (await as('t1', 'POST', '/security-groups', { security_group: { name: 'a' } })).json().security_group;
    expect((await as('t2', 'GET', `/security-groups/${sg.id}`)).statusCode).toBe(404);
    expect((await as('t2', 'PUT', `/security-groups/${sg.id}`, { security_group: { name: 'x' } })).statusCode).toBe(404);
    expect((await as('t2', 'DELETE', `/security-groups/${sg.id}`)).statusCode).toBe(404);
    expect((await as('', 'GET', '/security-groups')).statusCode).toBe(401);
    expect(fake.groups.get(sg.id)!.name).toBe('a');
  });

  it('refuses malformed bodies with a 400 naming the field, before any call', async () => {
    for (const [url, body] of [
      ['/security-groups', { security_group: { name: 7 } }],
      ['/security-groups', { security_group: { name: 'a', colour: 'red' } }],
      ['/security-group-rules', { security_group_rule: { security_group_id: 'sg1', direction: 'sideways' } }],
      ['/security-group-rules', { security_group_rule: { direction: 'ingress' } }],
      ['/security-group-rules', { security_group_rule: { security_group_id: 'sg1', direction: 'ingress', port_range_min: 'ten' } }],
      ['/security-group-rules', { security_group_rule: { security_group_id: 'sg1', direction: 'ingress', ethertype: 'IPX' } }],
    ] as const) {
      const res = await as('t1', 'POST', url, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().NeutronError.type).toBe('HTTPBadRequest');
    }
    expect(calls.filter((c) => c.method !== 'validateToken')).toEqual([]);
  });

  it('creates rules (protocol and ports as strings or numbers), lists and shows them, answers 409 SecurityGroupRuleExists for a duplicate, and deletes them', async () => {
    const sg = (await as('t1', 'POST', '/security-groups', { security_group: { name: 'a' } })).json().security_group;
    const body = { security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', port_range_min: '22', port_range_max: 22, remote_ip_prefix: '10.0.0.0/8' } };
    const created = await as('t1', 'POST', '/security-group-rules', body);
    expect(created.statusCode).toBe(201);
    const rule = created.json().security_group_rule;
    expect(rule).toMatchObject({ security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.0/8', project_id: 'p1' });
    const sent = calls.find((c) => c.method === 'createSecurityGroupRule')!.req as network.CreateSecurityGroupRuleRequest;
    expect(sent.rule).toMatchObject({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, ethertype: 'IPv4' });

    const dup = await as('t1', 'POST', '/security-group-rules', body);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().NeutronError.type).toBe('SecurityGroupRuleExists');

    const both = await as('t1', 'POST', '/security-group-rules', { security_group_rule: { ...body.security_group_rule, protocol: 'udp', remote_group_id: sg.id } });
    expect(both.statusCode).toBe(400);
    expect(both.json().NeutronError).toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('remote_group_id') });

    const unknown = await as('t1', 'POST', '/security-group-rules', { security_group_rule: { security_group_id: 'nope', direction: 'ingress' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().NeutronError.type).toBe('SecurityGroupNotFound');

    const list = (await as('t1', 'GET', `/security-group-rules?security_group_id=${sg.id}&direction=ingress`)).json().security_group_rules;
    expect(list.map((r: { id: string }) => r.id)).toEqual([rule.id]);
    expect((await as('t1', 'GET', `/security-group-rules/${rule.id}`)).json().security_group_rule).toEqual(rule);
    expect((await as('t2', 'GET', `/security-group-rules/${rule.id}`)).statusCode).toBe(404);
    expect((await as('t1', 'DELETE', `/security-group-rules/${rule.id}`)).statusCode).toBe(204);
    const gone = await as('t1', 'GET', `/security-group-rules/${rule.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().NeutronError.type).toBe('SecurityGroupRuleNotFound');
  });

  it('answers 409 SecurityGroupInUse for a group a port uses, and 409 for a group named default', async () => {
    const sg = (await as('t1', 'POST', '/security-groups', { security_group: { name: 'a' } })).json().security_group;
    fake.ports.set('port1', network.Port.fromPartial({ id: 'port1', projectId: 'p1', securityGroupIds: [sg.id] }));
    const inUse = await as('t1', 'DELETE', `/security-groups/${sg.id}`);
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json().NeutronError.type).toBe('SecurityGroupInUse');
    expect((await as('t1', 'POST', '/security-groups', { security_group: { name: 'default' } })).statusCode).toBe(409);
    // PUT with security_groups replaces the port's list; [] clears it, and then the group goes
    const cleared = await as('t1', 'PUT', '/ports/port1', { port: { security_groups: [] } });
    expect(cleared.json().port.security_groups).toEqual([]);
    expect(calls.find((c) => c.method === 'updatePort')!.req).toMatchObject({ portId: 'port1', replaceSecurityGroups: true, securityGroupIds: [] });
    expect((await as('t1', 'DELETE', `/security-groups/${sg.id}`)).statusCode).toBe(204);
    // fixed_ips in a PUT is the port's whole list; leaving it out changes none
    await as('t1', 'PUT', '/ports/port1', { port: { fixed_ips: [{ subnet_id: 's1' }, { ip_address: '10.0.0.9' }] } });
    expect(calls.filter((c) => c.method === 'updatePort').at(-1)!.req).toMatchObject({ replaceFixedIps: true, fixedIps: [{ subnetId: 's1', ipAddress: '' }, { subnetId: '', ipAddress: '10.0.0.9' }], replaceSecurityGroups: false });
    await as('t1', 'PUT', '/ports/port1', { port: { name: 'x' } });
    expect(calls.filter((c) => c.method === 'updatePort').at(-1)!.req).toMatchObject({ replaceFixedIps: false, replaceSecurityGroups: false });
    expect((await as('t1', 'PUT', '/ports/port1', { port: { fixed_ips: [{ subnet_id: 's1', colour: 'red' }] } })).statusCode).toBe(400);
  });

  it('updates a network with PUT, and refuses attributes it cannot change (400)', async () => {
    const net = (await as('t1', 'POST', '/networks', { network: { name: 'n', description: 'blue' } })).json().network;
    expect(calls.find((c) => c.method === 'createNetwork')!.req).toMatchObject({ name: 'n', description: 'blue' });
    const put = await as('t1', 'PUT', `/networks/${net.id}`, { network: { name: 'renamed', admin_state_up: false } });
    expect(put.statusCode).toBe(200);
    expect(put.json().network).toMatchObject({ id: net.id, name: 'renamed', admin_state_up: false });
    expect(calls.find((c) => c.method === 'updateNetwork')!.req).toEqual({ networkId: net.id, name: 'renamed', description: undefined, adminStateUp: false, shared: undefined });
    expect((await as('t1', 'PUT', `/networks/${net.id}`, { network: { mtu: 'x' } })).statusCode).toBe(400);
    expect((await as('t2', 'PUT', `/networks/${net.id}`, { network: { name: 'theirs' } })).statusCode).toBe(404);
  });

  it('bulk-creates networks all or nothing: a failing item deletes the ones made before it', async () => {
    const ok = await as('t1', 'POST', '/networks', { networks: [{ name: 'a' }, { name: 'b' }] });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().networks.map((x: { name: string }) => x.name)).toEqual(['a', 'b']);
    const failed = await as('t1', 'POST', '/networks', { networks: [{ name: 'c' }, { name: 'bad' }] });
    expect(failed.statusCode).toBe(400);
    expect([...fake.nets.values()].map((x) => x.name).sort()).toEqual(['a', 'b']);
    expect((await as('t1', 'POST', '/networks', { networks: [] })).statusCode).toBe(400);
    expect((await as('t1', 'POST', '/networks', { network: { name: 'x' }, networks: [{ name: 'y' }] })).statusCode).toBe(400);
  });

  it('sorts by sort_key/sort_dir pairs and pages with limit/marker and a next link', async () => {
    for (const name of ['b', 'c', 'a']) await as('t1', 'POST', '/networks', { network: { name } });
    const names = async (q: string) => (await as('t1', 'GET', `/networks?${q}`)).json().networks.map((x: { name: string }) => x.name);
    expect(await names('sort_key=name&sort_dir=asc')).toEqual(['a', 'b', 'c']);
    expect(await names('sort_key=name&sort_dir=desc')).toEqual(['c', 'b', 'a']);
    const page = (await as('t1', 'GET', '/networks?sort_key=name&limit=2')).json();
    expect(page.networks.map((x: { name: string }) => x.name)).toEqual(['a', 'b']);
    expect(page.networks_links).toEqual([{ rel: 'next', href: expect.stringContaining(`/network/v2.0/networks?limit=2&marker=${page.networks[1].id}`) }]);
    expect(await names(`sort_key=name&limit=2&marker=${page.networks[1].id}`)).toEqual(['c']);
    expect((await as('t1', 'GET', '/networks?sort_key=name&sort_dir=up')).statusCode).toBe(400);
    expect((await as('t1', 'GET', '/networks?sort_key=colour')).statusCode).toBe(400);
  });

  it('lists the security-group extension and the security group collections in the index', async () => {
    const ext = (await as('t1', 'GET', '/extensions')).json().extensions.map((e: { alias: string }) => e.alias);
    expect(ext).toEqual(expect.arrayContaining(['security-group', 'sorting', 'pagination']));
    expect((await as('t1', 'GET', '/extensions/security-group')).statusCode).toBe(200);
    const index = (await as('t1', 'GET', '/')).json().resources.map((r: { collection: string }) => r.collection);
    expect(index).toEqual(expect.arrayContaining(['security_groups', 'security_group_rules']));
  });
});
