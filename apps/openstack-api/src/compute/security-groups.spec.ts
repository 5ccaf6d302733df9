import type { FastifyInstance } from 'fastify';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { compute, identity, network } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: p1's member, p2's member. */
const TOKENS: Record<string, { projectId: string }> = { t1: { projectId: 'p1' }, t2: { projectId: 'p2' } };

const rule = (over: Partial<network.SecurityGroupRule>) => network.SecurityGroupRule.fromPartial({ ethertype: 'IPv4', ...over });

/** Compute and network with the services' project scoping: server s1 of p1 with two ports in p1's default group. */
function fakeCloud() {
  const caller = fakeCaller(TOKENS);
  const groups = [
    network.SecurityGroup.fromPartial({ id: 'sg-default', name: 'default', projectId: 'p1', description: 'Default security group' }),
    network.SecurityGroup.fromPartial({
      id: 'sg-web',
      name: 'web',
      projectId: 'p1',
      description: 'front',
      rules: [
        rule({ id: 'r1', securityGroupId: 'sg-web', direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' }),
        rule({ id: 'r2', securityGroupId: 'sg-web', direction: 'ingress', protocol: 'icmp' }),
        rule({ id: 'r3', securityGroupId: 'sg-web', direction: 'ingress', protocol: 'tcp', remoteGroupId: 'sg-default' }),
        rule({ id: 'r4', securityGroupId: 'sg-web', direction: 'egress' }),
      ],
    }),
    network.SecurityGroup.fromPartial({ id: 'sg-dup1', name: 'dup', projectId: 'p1' }),
    network.SecurityGroup.fromPartial({ id: 'sg-dup2', name: 'dup', projectId: 'p1' }),
    network.SecurityGroup.fromPartial({ id: 'sg-p2', name: 'web', projectId: 'p2' }),
  ];
  const ports = [
    network.Port.fromPartial({ id: 'port-a', deviceId: 's1', projectId: 'p1', securityGroupIds: ['sg-default'], portSecurityEnabled: true }),
    network.Port.fromPartial({ id: 'port-b', deviceId: 's1', projectId: 'p1', securityGroupIds: ['sg-default'], portSecurityEnabled: true }),
  ];
  const server = compute.Server.fromPartial({ id: 's1', name: 'web', projectId: 'p1', status: 'ACTIVE', vmState: compute.VmState.VM_STATE_ACTIVE });
  const impl = {
    validateToken: (_: unknown, opts: Call['opts']) => ({ info: identity.TokenInfo.fromPartial({ projectId: caller(opts).projectId }) }),
    getServer: (req: { serverId: string }, opts: Call['opts']) => {
      if (req.serverId !== server.id || caller(opts).projectId !== server.projectId) throw new NotFoundError('server', req.serverId);
      return { server };
    },
    createServer: (req: compute.CreateServerRequest, opts: Call['opts']) => {
      const me = caller(opts);
      for (const name of req.securityGroups) {
        const n = groups.filter((g) => g.projectId === me.projectId && (g.name === name || g.id === name)).length;
        if (n === 0) throw new InvalidArgumentError('security_groups', `Security group ${name} not found for project ${me.projectId}.`);
        if (n > 1) throw new FailedPreconditionError(`Multiple security_group matches found for name '${name}', use an ID to be more specific.`, 'security_group_not_unique');
      }
      return { servers: [server], reservationId: 'r-1' };
    },
    listSecurityGroups: (_: unknown, opts: Call['opts']) => ({ securityGroups: groups.filter((g) => g.projectId === caller(opts).projectId) }),
    getSecurityGroup: (req: { securityGroupId: string }, opts: Call['opts']) => {
      const g = groups.find((x) => x.id === req.securityGroupId && x.projectId === caller(opts).projectId);
      if (!g) throw new NotFoundError('security_group', req.securityGroupId);
      return { securityGroup: g };
    },
    listPorts: (req: network.ListPortsRequest, opts: Call['opts']) => ({
      ports: ports.filter((p) => p.projectId === caller(opts).projectId && req.deviceIds.includes(p.deviceId)),
      page: { nextPageToken: '' },
    }),
    updatePort: (req: network.UpdatePortRequest, opts: Call['opts']) => {
      const p = ports.find((x) => x.id === req.portId && x.projectId === caller(opts).projectId);
      if (!p) throw new NotFoundError('port', req.portId);
      if (req.securityGroupIds.length > 2) throw new FailedPreconditionError(`port ${p.id} takes at most two groups in this fake`, 'too_many_groups');
      if (req.replaceSecurityGroups) p.securityGroupIds = req.securityGroupIds;
      return { port: p };
    },
  };
  return { impl, ports };
}

describe("Nova: a server's security groups (real HTTP, fake gRPC)", () => {
  let app: FastifyInstance;
  let calls: Call[];
  let cloud: ReturnType<typeof fakeCloud>;
  const as = (token: string, method: string, url: string, payload?: unknown) => requestAs(app, { method, url: `/compute/v2.1${url}`, payload }, token);
  const action = (token: string, body: unknown) => as(token, 'POST', '/servers/s1/action', body);
  const updates = () => calls.filter((c) => c.method === 'updatePort');

  beforeEach(async () => {
    calls = [];
    cloud = fakeCloud();
    app = await listenFront(fakeBackends(calls, cloud.impl as never));
  });
  afterEach(() => app.close());

  it('addSecurityGroup puts the group on every port of the server (202); show lists it; adding it again changes nothing', async () => {
    const res = await action('t1', { addSecurityGroup: { name: 'web' } });
    expect(res.statusCode).toBe(202);
    expect(res.text).toBe('');
    expect(cloud.ports.map((p) => p.securityGroupIds)).toEqual([
      ['sg-default', 'sg-web'],
      ['sg-default', 'sg-web'],
    ]);
    expect(updates().every((c) => c.opts.token === 't1')).toBe(true);
    expect((await as('t1', 'GET', '/servers/s1')).json().server.security_groups).toEqual([{ name: 'default' }, { name: 'web' }]);
    calls.length = 0;
    expect((await action('t1', { addSecurityGroup: { name: 'sg-web' } })).statusCode).toBe(202);
    expect(updates()).toHaveLength(0);
  });

  it('a refused port update puts the ports already changed back (all or none); a port without port security is 400', async () => {
    cloud.ports[1].securityGroupIds = ['sg-default', 'sg-dup1'];
    const res = await action('t1', { addSecurityGroup: { name: 'web' } });
    expect(res.statusCode).toBe(409);
    expect(cloud.ports.map((p) => p.securityGroupIds)).toEqual([['sg-default'], ['sg-default', 'sg-dup1']]);
    cloud.ports[1].portSecurityEnabled = false;
    calls.length = 0;
    const closed = await action('t1', { addSecurityGroup: { name: 'web' } });
    expect(closed.statusCode).toBe(400);
    expect(closed.json().badRequest.message).toMatch(/port-b because port security is disabled/);
    expect(updates()).toHaveLength(0);
  });

  it("removeSecurityGroup takes it off every port (202); removing a group the server does not have is Nova's 400", async () => {
    expect((await action('t1', { removeSecurityGroup: { name: 'default' } })).statusCode).toBe(202);
    expect(cloud.ports.map((p) => p.securityGroupIds)).toEqual([[], []]);
    expect((await as('t1', 'GET', '/servers/s1')).json().server).not.toHaveProperty('security_groups'); // none left: Nova leaves the key out
    const again = await action('t1', { removeSecurityGroup: { name: 'default' } });
    expect(again.statusCode).toBe(400);
    expect(again.json().badRequest.message).toBe('Security group default not associated with the instance s1');
  });

  it('an unknown group is 404, another project\'s group of that name is not seen, a name shared by two groups is 409', async () => {
    const unknown = await action('t1', { addSecurityGroup: { name: 'nope' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().itemNotFound.message).toBe('Security group nope not found.');
    expect((await action('t1', { addSecurityGroup: { name: 'sg-p2' } })).statusCode).toBe(404);
    expect((await action('t1', { addSecurityGroup: { name: 'dup' } })).statusCode).toBe(409);
    expect(updates()).toHaveLength(0);
  });

  it("another project's server is 404, no token is 401, a malformed body is 400; nothing is updated", async () => {
    for (const r of [await action('t2', { addSecurityGroup: { name: 'web' } }), await action('t2', { removeSecurityGroup: { name: 'default' } }), await as('t2', 'GET', '/servers/s1/os-security-groups')]) {
      expect(r.statusCode).toBe(404);
      expect(r.json()).toHaveProperty('itemNotFound');
    }
    expect((await action('', { addSecurityGroup: { name: 'web' } })).statusCode).toBe(401);
    expect((await as('', 'GET', '/servers/s1/os-security-groups')).statusCode).toBe(401);
    for (const body of [{ addSecurityGroup: {} }, { addSecurityGroup: { name: '' } }, { addSecurityGroup: { name: 'x'.repeat(256) } }, { removeSecurityGroup: { name: 'web', colour: 'red' } }, { addSecurityGroup: { name: 7 } }]) {
      const r = await action('t1', body);
      expect(r.statusCode).toBe(400);
      expect(r.json()).toHaveProperty('badRequest');
    }
    expect(updates()).toHaveLength(0);
    expect(cloud.ports.map((p) => p.securityGroupIds)).toEqual([['sg-default'], ['sg-default']]);
  });

  it("GET /servers/{id}/os-security-groups: the ports' groups in Nova's view, ingress rules in Nova's proxy form", async () => {
    await action('t1', { addSecurityGroup: { name: 'web' } });
    const res = await as('t1', 'GET', '/servers/s1/os-security-groups');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      security_groups: [
        { id: 'sg-default', name: 'default', description: 'Default security group', tenant_id: 'p1', rules: [] },
        {
          id: 'sg-web',
          name: 'web',
          description: 'front',
          tenant_id: 'p1',
          rules: [
            { id: 'r1', parent_group_id: 'sg-web', ip_protocol: 'tcp', from_port: 22, to_port: 22, group: {}, ip_range: { cidr: '0.0.0.0/0' } },
            { id: 'r2', parent_group_id: 'sg-web', ip_protocol: 'icmp', from_port: -1, to_port: -1, group: {}, ip_range: {} },
            { id: 'r3', parent_group_id: 'sg-web', ip_protocol: 'tcp', from_port: 1, to_port: 65535, group: { name: 'default', tenant_id: 'p1' }, ip_range: {} },
          ],
        },
      ],
    });
  });

  it('GET /os-security-groups lists the caller\'s groups and /os-security-groups/{id} shows one (404 by name or for another project)', async () => {
    const list = await as('t1', 'GET', '/os-security-groups');
    expect(list.statusCode).toBe(200);
    expect(list.json().security_groups.map((g: { id: string }) => g.id)).toEqual(['sg-default', 'sg-web', 'sg-dup1', 'sg-dup2']);
    const show = await as('t1', 'GET', '/os-security-groups/sg-web');
    expect(show.json().security_group).toMatchObject({ id: 'sg-web', name: 'web', tenant_id: 'p1', rules: expect.arrayContaining([expect.objectContaining({ id: 'r1', from_port: 22 })]) });
    expect((await as('t1', 'GET', '/os-security-groups/web')).statusCode).toBe(404);
    expect((await as('t2', 'GET', '/os-security-groups/sg-web')).statusCode).toBe(404);
    expect((await as('t2', 'GET', '/os-security-groups')).json().security_groups.map((g: { id: string }) => g.id)).toEqual(['sg-p2']);
    expect((await as('', 'GET', '/os-security-groups')).statusCode).toBe(401);
  });

  it("create passes the names on; a group the caller does not have is Nova's 400, a name shared by two groups 409", async () => {
    const ok = await as('t1', 'POST', '/servers', { server: { name: 'a', flavorRef: '1', networks: [], security_groups: [{ name: 'web' }] } });
    expect(ok.statusCode).toBe(202);
    expect(calls.find((c) => c.method === 'createServer')?.req).toMatchObject({ securityGroups: ['web'] });
    const missing = await as('t1', 'POST', '/servers', { server: { name: 'a', flavorRef: '1', networks: [], security_groups: [{ name: 'nope' }] } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().badRequest.message).toBe('Security group nope not found for project p1.');
    expect((await as('t1', 'POST', '/servers', { server: { name: 'a', flavorRef: '1', networks: [], security_groups: [{ name: 'dup' }] } })).statusCode).toBe(409);
  });
});
