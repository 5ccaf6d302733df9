import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { listAll } from '../paging';
import { resolveNetwork, resolveServer } from '../resolve';
import { plainView, type View } from '../views';

/** `network create|list|show|delete`, `subnet create|list`, `port list`. */
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

  withOutputOptions(net.command('list').description('list networks')).action(async (o: OutputOptions) => {
    const c = await ctx.session.client('network');
    const networks = await listAll(async (pageToken) => {
      const r = await c.listNetworks({ page: { pageToken } });
      return { items: r.networks, next: r.page?.nextPageToken };
    });
    ctx.printList(networks.map(plainView), [
      { header: 'ID', key: 'id' },
      { header: 'Name', key: 'name' },
      { header: 'Subnets', key: 'subnet_ids' },
    ], o);
  });

  withOutputOptions(net.command('show <network>').description('show one network (id or name)')).action(async (ref: string, o: OutputOptions) => {
    ctx.printShow(plainView(await resolveNetwork(await ctx.session.client('network'), ref)), o);
  });

  net
    .command('delete <network...>')
    .description('delete networks')
    .action(async (refs: string[]) => {
      const c = await ctx.session.client('network');
      for (const ref of refs) await c.deleteNetwork({ networkId: (await resolveNetwork(c, ref)).id });
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
        { header: 'ID', key: 'id' },
        { header: 'Name', key: 'name' },
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
    const ports = await listAll(async (pageToken) => {
      const r = await c.listPorts({ networkId, deviceId, page: { pageToken } });
      return { items: r.ports, next: r.page?.nextPageToken };
    });
    ctx.printList(ports.map(plainView), [
      { header: 'ID', key: 'id' },
      { header: 'Name', key: 'name' },
      { header: 'MAC Address', key: 'mac_address' },
      {
        header: 'Fixed IP Addresses',
        key: 'fixed_ips',
        get: (v) => ((v.fixed_ips as View[] | undefined) ?? []).map((f) => `ip_address='${f.ip_address}', subnet_id='${f.subnet_id}'`).join('\n'),
      },
      { header: 'Status', key: 'status' },
    ], o);
  });
}
