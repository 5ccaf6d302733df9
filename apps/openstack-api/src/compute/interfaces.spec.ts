import type { FastifyInstance } from 'fastify';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { compute, identity } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: p1's member, p2's member. */
const TOKENS: Record<string, { projectId: string }> = { t1: { projectId: 'p1' }, t2: { projectId: 'p2' } };

const NET = '3f0a52b4-0d4e-4c6a-9b1f-000000000001';
const NET2 = '3f0a52b4-0d4e-4c6a-9b1f-000000000002';
const PORT_A = '7c1e2d3f-1111-4a2b-8c3d-00000000000a';
const PORT_USER = '7c1e2d3f-1111-4a2b-8c3d-0000000000bb';
const PORT_BOBS = '7c1e2d3f-1111-4a2b-8c3d-0000000000cc';

const iface = (portId: string, networkId: string, ip: string) =>
  compute.InterfaceAttachment.fromPartial({ portId, networkId, macAddress: 'fa:16:3e:00:00:0a', portState: 'ACTIVE', fixedIps: [{ subnetId: 'a1b2c3d4-0000-4000-8000-000000000001', ipAddress: ip }] });

/** The controller as the front sees it: server s1 of p1 with one interface; attach/detach with the controller's checks and scoping. */
function fakeCompute() {
  const caller = fakeCaller(TOKENS);
  const ifaces = [iface(PORT_A, NET, '10.0.0.5')];
  let vmState = compute.VmState.VM_STATE_ACTIVE;
  const scoped = (serverId: string, opts: Call['opts']) => {
    if (serverId !== 's1' || caller(opts).projectId !== 'p1') throw new NotFoundError('server', serverId);
  };
  const impl = {
    validateToken: (_: unknown, opts: Call['opts']) => ({ info: identity.TokenInfo.fromPartial({ projectId: caller(opts).projectId }) }),
    listInterfaces: (req: compute.ListInterfacesRequest, opts: Call['opts']) => {
      scoped(req.serverId, opts);
      return { interfaceAttachments: ifaces };
    },
    serverAction: (req: compute.ServerActionRequest, opts: Call['opts']) => {
      scoped(req.serverId, opts);
      if (vmState !== compute.VmState.VM_STATE_ACTIVE) throw new FailedPreconditionError("Cannot 'attach_interface' instance s1 while it is in vm_state paused", 'instance_invalid_state');
      if (req.attachInterface) {
        const { networkId, portId, fixedIpAddress } = req.attachInterface;
        if (portId === PORT_BOBS) throw new NotFoundError('port', portId, `Port ${portId} could not be found.`);
        if (portId && ifaces.some((i) => i.portId === portId)) throw new FailedPreconditionError(`Port ${portId} is still in use.`, 'port_in_use');
        if (networkId && networkId !== NET && networkId !== NET2) throw new NotFoundError('network', networkId, `Network ${networkId} could not be found.`);
        if (!networkId && !portId) throw new InvalidArgumentError('attach_interface.network_id', 'Multiple possible networks found, use a Network ID to be more specific.');
        const a = iface(portId || '7c1e2d3f-1111-4a2b-8c3d-0000000000dd', networkId || NET2, fixedIpAddress || '10.0.1.7');
        ifaces.push(a);
        return { server: {}, interfaceAttachment: a };
      }
      if (req.detachInterface) {
        const i = ifaces.findIndex((x) => x.portId === req.detachInterface!.portId);
        if (i < 0) throw new NotFoundError('port', req.detachInterface.portId, `Port ${req.detachInterface.portId} is not attached to server s1`);
        ifaces.splice(i, 1);
        return { server: {} };
      }
      throw new Error('unexpected action');
    },
  };
  return { impl, ifaces, pause: () => (vmState = compute.VmState.VM_STATE_PAUSED) };
}

describe('Nova os-interface (real HTTP, fake gRPC)', () => {
  let app: FastifyInstance;
  let calls: Call[];
  let cloud: ReturnType<typeof fakeCompute>;
  const as = (token: string, method: string, url: string, payload?: unknown) => requestAs(app, { method, url: `/compute/v2.1${url}`, payload }, token);
  const actions = () => calls.filter((c) => c.method === 'serverAction');

  beforeEach(async () => {
    calls = [];
    cloud = fakeCompute();
    app = await listenFront(fakeBackends(calls, cloud.impl as never));
  });
  afterEach(() => app.close());

  it("lists and shows a server's interfaces in Nova's view; an unknown port is 404 itemNotFound", async () => {
    const list = await as('t1', 'GET', '/servers/s1/os-interface');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      interfaceAttachments: [{ port_state: 'ACTIVE', fixed_ips: [{ subnet_id: 'a1b2c3d4-0000-4000-8000-000000000001', ip_address: '10.0.0.5' }], port_id: PORT_A, net_id: NET, mac_addr: 'fa:16:3e:00:00:0a' }],
    });
    const show = await as('t1', 'GET', `/servers/s1/os-interface/${PORT_A}`);
    expect(show.statusCode).toBe(200);
    expect(show.json().interfaceAttachment).toEqual(list.json().interfaceAttachments[0]);
    const missing = await as('t1', 'GET', `/servers/s1/os-interface/${PORT_USER}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().itemNotFound.message).toBe(`Instance s1 does not have a port with id ${PORT_USER}`);
    expect(calls.filter((c) => c.method === 'listInterfaces').every((c) => c.opts.token === 't1')).toBe(true);
  });

  it('attaches by network (with a fixed IP) and by port: 200 with the attachment; detach is 202 and the port leaves the list', async () => {
    const byNet = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { net_id: NET2, fixed_ips: [{ ip_address: '10.0.1.9' }] } });
    expect(byNet.statusCode).toBe(200);
    expect(byNet.json().interfaceAttachment).toMatchObject({ net_id: NET2, port_state: 'ACTIVE', fixed_ips: [{ ip_address: '10.0.1.9' }] });
    expect(actions()[0]).toMatchObject({ req: { serverId: 's1', attachInterface: { networkId: NET2, portId: '', fixedIpAddress: '10.0.1.9' } }, opts: { token: 't1' } });
    const byPort = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { port_id: PORT_USER } });
    expect(byPort.statusCode).toBe(200);
    expect(byPort.json().interfaceAttachment).toMatchObject({ port_id: PORT_USER });
    expect(Object.keys(byPort.json().interfaceAttachment).sort()).toEqual(['fixed_ips', 'mac_addr', 'net_id', 'port_id', 'port_state']);
    expect((await as('t1', 'GET', '/servers/s1/os-interface')).json().interfaceAttachments).toHaveLength(3);

    const del = await as('t1', 'DELETE', `/servers/s1/os-interface/${PORT_USER}`);
    expect(del.statusCode).toBe(202);
    expect(del.text).toBe('');
    expect(actions().at(-1)).toMatchObject({ req: { serverId: 's1', detachInterface: { portId: PORT_USER } } });
    expect((await as('t1', 'GET', '/servers/s1/os-interface')).json().interfaceAttachments.map((i: { port_id: string }) => i.port_id)).not.toContain(PORT_USER);
    const again = await as('t1', 'DELETE', `/servers/s1/os-interface/${PORT_USER}`);
    expect(again.statusCode).toBe(404);
    expect(again.json()).toHaveProperty('itemNotFound');
  });

  it("Nova's errors: unknown network or port 404, a port in use or a server in the wrong state 409, no network to choose 400", async () => {
    const unknownNet = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { net_id: '3f0a52b4-0d4e-4c6a-9b1f-0000000000ff' } });
    expect(unknownNet.statusCode).toBe(404);
    expect(unknownNet.json().itemNotFound.message).toMatch(/Network .* could not be found/);
    expect((await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { port_id: PORT_BOBS } })).statusCode).toBe(404);
    const inUse = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { port_id: PORT_A } });
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json().conflictingRequest.message).toMatch(/in use/);
    const ambiguous = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: {} });
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json().badRequest.message).toMatch(/Multiple possible networks found/);
    cloud.pause();
    const paused = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { net_id: NET2 } });
    expect(paused.statusCode).toBe(409);
    expect(paused.json().conflictingRequest.message).toMatch(/vm_state paused/);
  });

  it("another project's server is 404, no token is 401, a malformed body is 400; nothing is attached", async () => {
    for (const r of [
      await as('t2', 'GET', '/servers/s1/os-interface'),
      await as('t2', 'GET', `/servers/s1/os-interface/${PORT_A}`),
      await as('t2', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { net_id: NET } }),
      await as('t2', 'DELETE', `/servers/s1/os-interface/${PORT_A}`),
    ]) {
      expect(r.statusCode).toBe(404);
      expect(r.json()).toHaveProperty('itemNotFound');
    }
    expect((await as('', 'GET', '/servers/s1/os-interface')).statusCode).toBe(401);
    expect((await as('', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { net_id: NET } })).statusCode).toBe(401);
    expect((await as('', 'DELETE', `/servers/s1/os-interface/${PORT_A}`)).statusCode).toBe(401);
    const before = actions().length;
    for (const body of [
      { interfaceAttachment: { net_id: NET, port_id: PORT_USER } },
      { interfaceAttachment: { port_id: PORT_USER, fixed_ips: [{ ip_address: '10.0.0.9' }] } },
      { interfaceAttachment: { net_id: 'not-a-uuid' } },
      { interfaceAttachment: { net_id: NET, fixed_ips: [] } },
      { interfaceAttachment: { net_id: NET, fixed_ips: [{ ip_address: '10.0.0.9' }, { ip_address: '10.0.0.10' }] } },
      { interfaceAttachment: { net_id: NET, fixed_ips: [{ subnet_id: 'x' }] } },
      { interfaceAttachment: { net_id: NET, colour: 'red' } },
      { interfaceAttachment: { net_id: 7 } },
      { interfaceAttachment: 'net' },
      { attachment: {} },
    ]) {
      const r = await as('t1', 'POST', '/servers/s1/os-interface', body);
      expect(r.statusCode).toBe(400);
      expect(r.json()).toHaveProperty('badRequest');
    }
    expect(actions()).toHaveLength(before);
    expect(cloud.ifaces).toHaveLength(1);
    const both = await as('t1', 'POST', '/servers/s1/os-interface', { interfaceAttachment: { net_id: NET, port_id: PORT_USER } });
    expect(both.json().badRequest.message).toBe('Must not input both network_id and port_id');
  });
});
