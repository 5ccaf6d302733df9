import { compute, network } from '@minicloud/proto';
import { NotFoundError } from '@minicloud/domain-errors';
import { catalogEntry, fakeServerLookup, loggedInCli } from '../testing/fake-cli';

/** In-process CLI run against fake compute/network clients (logged in first): server web (s1) with one interface on net-1. */
async function loggedIn() {
  const actions: compute.ServerActionRequest[] = [];
  const srv = compute.Server.fromPartial({ id: 's1', name: 'web' });
  const nets = [network.Network.fromPartial({ id: 'net-1', name: 'private' }), network.Network.fromPartial({ id: 'net-2', name: 'second' })];
  const ports = [network.Port.fromPartial({ id: 'port-9', name: 'spare', networkId: 'net-2' })];
  const ifaces = [
    compute.InterfaceAttachment.fromPartial({ portId: 'port-1', networkId: 'net-1', macAddress: 'fa:16:3e:00:00:01', portState: 'ACTIVE', fixedIps: [{ subnetId: 'sub-1', ipAddress: '10.0.0.5' }] }),
  ];
  const fakes = {
    compute: {
      ...fakeServerLookup(srv),
      listInterfaces: () => ({ interfaceAttachments: ifaces }),
      serverAction: (req: compute.ServerActionRequest) => {
        actions.push(req);
        const a = req.attachInterface;
        if (!a) return { server: srv };
        return {
          server: srv,
          interfaceAttachment: { portId: a.portId || 'port-new', networkId: a.networkId || 'net-2', macAddress: 'fa:16:3e:00:00:02', portState: 'ACTIVE', fixedIps: [{ subnetId: 'sub-2', ipAddress: a.fixedIpAddress || '10.0.1.4' }] },
        };
      },
    },
    network: {
      getNetwork: (req: network.GetNetworkRequest) => {
        const n = nets.find((x) => x.id === req.networkId);
        if (!n) throw new NotFoundError('network', req.networkId);
        return { network: n };
      },
      listNetworks: () => ({ networks: nets }),
      getPort: (req: network.GetPortRequest) => {
        const p = ports.find((x) => x.id === req.portId);
        if (!p) throw new NotFoundError('port', req.portId);
        return { port: p };
      },
      listPorts: () => ({ ports }),
    },
  };
  const cli = await loggedInCli({
    dirPrefix: 'mc-cli-srviface-',
    services: fakes,
    roles: ['member'],
    catalog: [catalogEntry('compute', '10.0.0.1:5004'), catalogEntry('network', '10.0.0.1:5003')],
  });
  return { out: cli.out, actions, run: cli.run };
}

describe('minicloud server add/remove port|network', () => {
  it('add network resolves server and network by name, sends attach_interface with --fixed-ip-address and prints the interface', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'add', 'network', 'web', 'second', '--fixed-ip-address', '10.0.1.9', '-f', 'json')).toBe(0);
    expect(h.actions[0]).toMatchObject({ serverId: 's1', attachInterface: { networkId: 'net-2', fixedIpAddress: '10.0.1.9' } });
    expect(h.actions[0].attachInterface?.portId ?? '').toBe('');
    expect(JSON.parse(h.out.stdout)).toEqual({ port_id: 'port-new', server_id: 's1', network_id: 'net-2', mac_address: 'fa:16:3e:00:00:02', fixed_ips: '10.0.1.9 (subnet sub-2)', port_state: 'ACTIVE' });
  });

  it('add port resolves the port by name and sends attach_interface with its id', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'add', 'port', 'web', 'spare')).toBe(0);
    expect(h.actions[0]).toMatchObject({ serverId: 's1', attachInterface: { portId: 'port-9' } });
    expect(h.actions[0].attachInterface?.networkId ?? '').toBe('');
  });

  it("remove port sends detach_interface (an interface's id needs no look-up); remove network detaches the server's ports on it", async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'remove', 'port', 'web', 'port-1')).toBe(0);
    expect(await h.run('server', 'remove', 'port', 'web', 'spare')).toBe(0);
    expect(await h.run('server', 'remove', 'network', 'web', 'private')).toBe(0);
    expect(h.actions.map((a) => a.detachInterface?.portId)).toEqual(['port-1', 'port-9', 'port-1']);
  });

  it('an unknown network or port, or a network the server is not on, fails with one error line and no action', async () => {
    const h = await loggedIn();
    expect(await h.run('server', 'add', 'network', 'web', 'nope')).toBe(1);
    expect(h.out.stderr).toMatch(/nope/);
    expect(await h.run('server', 'add', 'port', 'web', 'nope')).toBe(1);
    expect(await h.run('server', 'remove', 'network', 'web', 'second')).toBe(1);
    expect(h.out.stderr).toMatch(/no interface on network net-2 \(NOT_FOUND\)/);
    expect(h.actions).toEqual([]);
  });
});
