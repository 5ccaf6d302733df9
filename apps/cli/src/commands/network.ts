import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type OutputOptions } from '../output';
import { pages, resolveNetwork, resolveServer, resolveSubnet } from '@minicloud/client';
import { network } from '@minicloud/proto';
import { plainView, type View } from '../views';
import { registerListShowDelete } from './resource-commands';

/** `network create|list|show|delete|trace`, `subnet create|list`, `port list`, `router ...`, `floating ip ...`. */
export function registerNetworkCommands(program: Command, ctx: CommandContext): void {
  const net = program.command('network').description('networks (NetworkService)');

  withOutputOptions(
    net
      .command('create <name>')
      .description('create a network, and its subnet when --subnet-range is given')
      .option('--subnet-range <cidr>', 'also create subnet "<name>-subnet" with this CIDR')
      .option('--external', 'router:external')
      .option('--shared', 'visible to every project'),
  ).action(async (name: string, o: OutputOptions & { subnetRange?: string; external?: boolean; shared?: boolean }) => {
    const c = await ctx.session.client('network');
    const created = (await c.createNetwork({ name, routerExternal: !!o.external, shared: !!o.shared })).network;
    if (!created) throw new Error('network service returned no network');
    let network = created;
    if (o.subnetRange) {
      try {
        await c.createSubnet({ networkId: created.id, name: `${name}-subnet`, cidr: o.subnetRange });
      } catch (e) {
        // The combined helper is all or nothing: remove the network the failed subnet was for.
        await c.deleteNetwork({ networkId: created.id }).catch(() => undefined);
        throw e;
      }
      network = (await c.getNetwork({ networkId: created.id })).network ?? created;
    }
    ctx.printShow(plainView(network), o);
  });

  const networks = () => ctx.session.client('network');
  registerListShowDelete(net, ctx, {
    noun: 'network',
    list: () => pages((page) => networks().listNetworks({ page }), 'networks'),
    columns: [
      ...ID_NAME,
      { header: 'Subnets', key: 'subnet_ids' },
    ],
    view: plainView,
    resolve: (ref) => resolveNetwork(networks(), ref),
    remove: (networkId) => networks().deleteNetwork({ networkId }),
  });

  const subnet = program.command('subnet').description('subnets (NetworkService)');
  withOutputOptions(
    subnet
      .command('create <name>')
      .description('create a subnet')
      .requiredOption('--network <network>', 'network id or name')
      .requiredOption('--subnet-range <cidr>', 'CIDR, e.g. 10.0.0.0/24')
      .option('--gateway <ip>', 'gateway IP (default: first address)'),
  ).action(async (name: string, o: OutputOptions & { network: string; subnetRange: string; gateway?: string }) => {
    const c = await ctx.session.client('network');
    const network = await resolveNetwork(c, o.network);
    const res = await c.createSubnet({ networkId: network.id, name, cidr: o.subnetRange, gatewayIp: o.gateway ?? '' });
    ctx.printShow(plainView(res.subnet ?? {}), o);
  });

  withOutputOptions(subnet.command('list').description('list subnets').option('--network <network>', 'only this network')).action(
    async (o: OutputOptions & { network?: string }) => {
      const c = await ctx.session.client('network');
      const networkId = o.network ? (await resolveNetwork(c, o.network)).id : '';
      const subnets = (await c.listSubnets({ networkId })).subnets;
      ctx.printList(subnets.map(plainView), [
        ...ID_NAME,
        { header: 'Network', key: 'network_id' },
        { header: 'Subnet', key: 'cidr' },
      ], o);
    },
  );

  const port = program.command('port').description('ports (NetworkService)');
  withOutputOptions(
    port.command('list').description('list ports').option('--network <network>', 'only this network').option('--server <server>', 'only this server'),
  ).action(async (o: OutputOptions & { network?: string; server?: string }) => {
    const c = await ctx.session.client('network');
    const networkId = o.network ? (await resolveNetwork(c, o.network)).id : '';
    const deviceId = o.server ? (await resolveServer(await ctx.session.client('compute'), o.server)).id : '';
    const ports = await pages((page) => c.listPorts({ networkId, deviceId, page }), 'ports');
    ctx.printList(ports.map(plainView), [
      ...ID_NAME,
      { header: 'MAC Address', key: 'mac_address' },
      {
        header: 'Fixed IP Addresses',
        key: 'fixed_ips',
        get: (v) => ((v.fixed_ips as View[] | undefined) ?? []).map((f) => `ip_address='${f.ip_address}', subnet_id='${f.subnet_id}'`).join('\n'),
      },
      { header: 'Status', key: 'status' },
    ], o);
  });

  withOutputOptions(
    net
      .command('trace')
      .description('trace a simulated packet through the overlay (vNIC, security groups, switch, VTEPs, routers, NAT)')
      .requiredOption('--from <port|server|ip>', 'source: a port id, a server (its first port), or an outside IPv4 address')
      .requiredOption('--to <ip|server>', 'destination: an IPv4 address (e.g. a floating IP) or a server')
      .option('--proto <proto>', 'tcp, udp or icmp', 'tcp')
      .option('--port <port>', 'destination port', '22'),
  ).action(async (o: OutputOptions & { from: string; to: string; proto: string; port: string }) => {
    const c = await ctx.session.client('network');
    const isIp = (x: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(x);
    const req: Partial<import('@minicloud/proto').network.TracePacketRequest> = { protocol: o.proto, dstPort: Number(o.port) };
    if (isIp(o.from)) req.fromIp = o.from;
    else {
      const asPort = await c.getPort({ portId: o.from }).catch(() => undefined);
      if (asPort?.port) req.fromPortId = asPort.port.id;
      else req.fromInstanceId = (await resolveServer(await ctx.session.client('compute'), o.from)).id;
    }
    if (isIp(o.to)) req.toIp = o.to;
    else req.toInstanceId = (await resolveServer(await ctx.session.client('compute'), o.to)).id;
    const r = await c.tracePacket(req);
    const rows = r.hops.map((h, i) => ({ step: String(i + 1), stage: h.stage, host: h.hostId, description: h.description, fields: Object.entries(h.fields).map(([k, v]) => `${k}=${v}`).join(' ') }));
    ctx.printList(rows, [
      { header: '#', key: 'step' },
      { header: 'Stage', key: 'stage' },
      { header: 'Host', key: 'host' },
      { header: 'Description', key: 'description' },
      { header: 'Fields', key: 'fields' },
    ], o);
    if (!o.format || o.format === 'table') ctx.out(r.delivered ? 'DELIVERED\n' : `DROPPED: ${r.dropReason}\n`);
  });

  const router = program.command('router').description('routers (NetworkService)');
  withOutputOptions(router.command('create <name>').description('create a router')).action(async (name: string, o: OutputOptions) => {
    ctx.printShow(plainView((await (await ctx.session.client('network')).createRouter({ name })).router ?? {}), o);
  });
  withOutputOptions(router.command('list').description('list routers')).action(async (o: OutputOptions) => {
    const routers = (await (await ctx.session.client('network')).listRouters({})).routers;
    ctx.printList(routers.map(plainView), [...ID_NAME, { header: 'External IP', key: 'external_ip' }], o);
  });
  withOutputOptions(router.command('add-subnet <router> <subnet>').description('attach a subnet (router interface on its gateway IP)')).action(async (r: string, sn: string, o: OutputOptions) => {
    const c = await ctx.session.client('network');
    ctx.printShow(plainView((await c.addRouterInterface({ routerId: r, subnetId: (await resolveSubnet(c, sn)).id })).router ?? {}), o);
  });
  withOutputOptions(router.command('set-gateway <router> <external-network>').description('set the external gateway (SNAT on unless --disable-snat)').option('--disable-snat', 'no SNAT')).action(
    async (r: string, ext: string, o: OutputOptions & { disableSnat?: boolean }) => {
      const c = await ctx.session.client('network');
      ctx.printShow(plainView((await c.setRouterGateway({ routerId: r, externalNetworkId: (await resolveNetwork(c, ext)).id, enableSnat: !o.disableSnat })).router ?? {}), o);
    },
  );

  for (const [verb, routesUpdate, what] of [
    ['add-route', network.RoutesUpdate.ROUTES_UPDATE_ADD, 'add a static route: packets for <destination> (CIDR) go to <nexthop>, an address on a subnet of the router'],
    ['remove-route', network.RoutesUpdate.ROUTES_UPDATE_REMOVE, 'remove a static route'],
  ] as const) {
    withOutputOptions(router.command(`${verb} <router> <destination> <nexthop>`).description(what)).action(async (r: string, destination: string, nexthop: string, o: OutputOptions) => {
      const c = await ctx.session.client('network');
      ctx.printShow(plainView((await c.updateRouter({ routerId: r, routes: [{ destination, nexthop }], routesUpdate })).router ?? {}), o);
    });
  }

  const fip = program.command('floating-ip').description('floating IPs (NetworkService)');
  withOutputOptions(fip.command('create <external-network>').description('allocate a floating IP').option('--port <port>', 'associate to this port')).action(
    async (ext: string, o: OutputOptions & { port?: string }) => {
      const c = await ctx.session.client('network');
      ctx.printShow(plainView((await c.createFloatingIp({ floatingNetworkId: (await resolveNetwork(c, ext)).id, portId: o.port ?? '' })).floatingIp ?? {}), o);
    },
  );
  withOutputOptions(fip.command('set <floating-ip-id>').description('associate to a port (--port) or disassociate (no --port)').option('--port <port>', 'port id')).action(
    async (id: string, o: OutputOptions & { port?: string }) => {
      ctx.printShow(plainView((await (await ctx.session.client('network')).updateFloatingIp({ floatingIpId: id, portId: o.port ?? '' })).floatingIp ?? {}), o);
    },
  );
  withOutputOptions(fip.command('list').description('list floating IPs')).action(async (o: OutputOptions) => {
    const fips = (await (await ctx.session.client('network')).listFloatingIps({})).floatingIps;
    ctx.printList(fips.map(plainView), [{ header: 'ID', key: 'id' }, { header: 'Floating IP', key: 'floating_ip_address' }, { header: 'Fixed IP', key: 'fixed_ip_address' }, { header: 'Port', key: 'port_id' }], o);
  });
}
