import type { Command } from 'commander';
import { NotFoundError } from '@minicloud/domain-errors';
import { compute } from '@minicloud/proto';
import { collect, parseKeyValues, parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { Column, OutputOptions } from '../output';
import { listAll } from '../paging';
import { resolveFlavor, resolveImage, resolveNetwork, resolveServer } from '../resolve';
import { isSettled, serverStatus } from '../server-status';
import { serverView, type View } from '../views';
import { waitUntilSettled } from '../wait';

/** `Networks` cell like the openstack CLI: `net1=10.0.0.5, 10.0.0.6; net2=192.168.0.3`. */
export function formatAddresses(addresses: readonly { network_name?: string; network_id?: string; ip_address?: string }[]): string {
  const byNet = new Map<string, string[]>();
  for (const a of addresses) {
    const net = a.network_name || a.network_id || '?';
    byNet.set(net, [...(byNet.get(net) ?? []), a.ip_address ?? '']);
  }
  return [...byNet].map(([net, ips]) => `${net}=${ips.join(', ')}`).join('; ');
}

/** Columns of `server list`, as the openstack CLI shows them. */
export function serverColumns(imageNames: ReadonlyMap<string, string> = new Map()): Column[] {
  return [
    { header: 'ID', key: 'id' },
    { header: 'Name', key: 'name' },
    { header: 'Status', key: 'status' },
    { header: 'Networks', key: 'addresses', get: (v) => formatAddresses((v.addresses as View[] | undefined) ?? []) },
    { header: 'Image', key: 'image_id', get: (v) => imageNames.get(v.image_id as string) ?? v.image_id },
    { header: 'Flavor', key: 'flavor', get: (v) => (v.flavor as View | undefined)?.name ?? '' },
  ];
}

const ACTIONS: { name: string; description: string; action: (o: { hard?: boolean }) => Partial<compute.ServerActionRequest> }[] = [
  { name: 'stop', description: 'power off', action: () => ({ stop: {} }) },
  { name: 'start', description: 'power on', action: () => ({ start: {} }) },
  { name: 'reboot', description: 'reboot (soft unless --hard)', action: (o) => ({ reboot: { type: o.hard ? 'HARD' : 'SOFT' } }) },
  { name: 'pause', description: 'pause (keep in memory)', action: () => ({ pause: {} }) },
  { name: 'unpause', description: 'unpause', action: () => ({ unpause: {} }) },
  { name: 'suspend', description: 'suspend (save to disk)', action: () => ({ suspend: {} }) },
  { name: 'resume', description: 'resume a suspended server', action: () => ({ resume: {} }) },
];

interface CreateOptions extends OutputOptions {
  image: string;
  flavor: string;
  network?: string[];
  count: number;
  wait?: boolean;
  timeout: number;
  availabilityZone?: string;
  property?: string[];
  hint?: string[];
}

/** `server create|list|show|delete` and the power/pause/suspend actions. */
export function registerServerCommands(program: Command, ctx: CommandContext): void {
  const server = program.command('server').description('compute servers (ComputeService)');

  withOutputOptions(
    server
      .command('create <name>')
      .description('boot servers; with --count N, all are placed or none')
      .requiredOption('--image <image>', 'image id or name')
      .requiredOption('--flavor <flavor>', 'flavor id or name')
      .option('--network <network>', 'network id or name (repeatable)', collect)
      .option('--count <n>', 'number of servers', (v) => parsePositiveInteger('--count', v), 1)
      .option('--wait', 'wait until every server is ACTIVE or ERROR')
      .option('--timeout <seconds>', 'give up waiting after this long', (v) => parsePositiveInteger('--timeout', v), 300)
      .option('--availability-zone <az>', 'availability zone')
      .option('--property <key=value>', 'metadata (repeatable)', collect)
      .option('--hint <key=value>', 'scheduler hint (repeatable)', collect),
  ).action(async (name: string, o: CreateOptions) => {
    const metadata = parseKeyValues('--property', o.property);
    const schedulerHints = parseKeyValues('--hint', o.hint);
    const [imageClient, computeClient, networkClient] = [await ctx.session.client('image'), await ctx.session.client('compute'), await ctx.session.client('network')];
    const img = await resolveImage(imageClient, o.image);
    const flavor = await resolveFlavor(computeClient, o.flavor);
    const networks = [];
    for (const ref of o.network ?? []) networks.push(await resolveNetwork(networkClient, ref));
    const res = await computeClient.createServer({
      name,
      imageRef: img.id,
      flavorRef: flavor.id,
      networks: networks.map((n) => ({ networkId: n.id })),
      minCount: o.count,
      maxCount: o.count,
      availabilityZone: o.availabilityZone ?? '',
      metadata,
      schedulerHints,
    });
    let servers = res.servers;
    if (o.wait) {
      await waitUntilSettled(
        servers.map((s) => s.id),
        async (id) => {
          const s = (await computeClient.getServer({ serverId: id })).server;
          if (!s) throw new NotFoundError('server', id);
          const task = s.taskState ? ` (${compute.taskStateToJSON(s.taskState).replace('TASK_STATE_', '').toLowerCase()})` : '';
          return { label: `${serverStatus(s)}${task}`, settled: isSettled(s) !== undefined };
        },
        { timeoutSeconds: o.timeout, now: ctx.now, sleep: ctx.sleep, stderr: ctx.io.stderr, what: 'servers settled' },
      );
      servers = await Promise.all(servers.map(async (s) => (await computeClient.getServer({ serverId: s.id })).server ?? s));
    }
    const imageNames = new Map([[img.id, img.name]]);
    if (servers.length === 1) ctx.printShow(serverView(servers[0]), o);
    else ctx.printList(servers.map(serverView), serverColumns(imageNames), o);
    const failed = servers.filter((s) => isSettled(s) === 'error');
    if (o.wait && failed.length) {
      const faults = failed.map((s) => `server ${s.name} (${s.id}) went to ERROR: ${s.fault?.message || 'no fault recorded'}`);
      throw new CliError(faults.join('; '), failed[0].fault?.code || undefined);
    }
  });

  withOutputOptions(
    server
      .command('list')
      .description('list servers')
      .option('--all-projects', 'every project (admin)')
      .option('--host <host>', 'only servers on this host (admin)')
      .option('--name <name>', 'only servers with this name'),
  ).action(async (o: OutputOptions & { allProjects?: boolean; host?: string; name?: string }) => {
    const c = await ctx.session.client('compute');
    const servers = await listAll(async (pageToken) => {
      const r = await c.listServers({ allProjects: !!o.allProjects, hostId: o.host ?? '', name: o.name ?? '', page: { pageToken } });
      return { items: r.servers, next: r.page?.nextPageToken };
    });
    ctx.printList(servers.map(serverView), serverColumns(await imageNames(ctx)), o);
  });

  withOutputOptions(server.command('show <server>').description('show one server (id or name)')).action(async (ref: string, o: OutputOptions) => {
    const s = await resolveServer(await ctx.session.client('compute'), ref);
    ctx.printShow(serverView(s), o);
  });

  server
    .command('delete <server...>')
    .description('delete servers')
    .option('--wait', 'wait until they are gone')
    .option('--timeout <seconds>', 'give up waiting after this long', (v) => parsePositiveInteger('--timeout', v), 300)
    .action(async (refs: string[], o: { wait?: boolean; timeout: number }) => {
      const c = await ctx.session.client('compute');
      const ids: string[] = [];
      for (const ref of refs) {
        const s = await resolveServer(c, ref);
        await c.deleteServer({ serverId: s.id });
        ids.push(s.id);
      }
      if (!o.wait) return;
      await waitUntilSettled(
        ids,
        async (id) => {
          try {
            const s = (await c.getServer({ serverId: id })).server;
            if (!s || s.vmState === compute.VmState.VM_STATE_DELETED) return { label: 'DELETED', settled: true };
            return { label: serverStatus(s), settled: false };
          } catch (e) {
            if (e instanceof NotFoundError) return { label: 'DELETED', settled: true };
            throw e;
          }
        },
        { timeoutSeconds: o.timeout, now: ctx.now, sleep: ctx.sleep, stderr: ctx.io.stderr, what: 'servers deleted' },
      );
    });

  for (const a of ACTIONS) {
    const cmd = server.command(`${a.name} <server...>`).description(`${a.description} (ComputeService.ServerAction)`);
    if (a.name === 'reboot') cmd.option('--hard', 'hard reboot (power cycle)');
    cmd.action(async (refs: string[], o: { hard?: boolean }) => {
      const c = await ctx.session.client('compute');
      for (const ref of refs) {
        const s = await resolveServer(c, ref);
        await c.serverAction({ serverId: s.id, ...a.action(o) });
      }
    });
  }
}

/** image id -> name for the Image column; best effort (an unreachable image service shows ids). */
async function imageNames(ctx: CommandContext): Promise<Map<string, string>> {
  try {
    const c = await ctx.session.client('image');
    const images = await listAll(async (pageToken) => {
      const r = await c.listImages({ page: { pageToken } });
      return { items: r.images, next: r.page?.nextPageToken };
    });
    return new Map(images.map((i) => [i.id, i.name]));
  } catch {
    return new Map();
  }
}
