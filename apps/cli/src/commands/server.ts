import type { Command } from 'commander';
import { NotFoundError } from '@minicloud/domain-errors';
import { compute } from '@minicloud/proto';
import { collect, parseKeyValues, parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { Column, OutputOptions } from '../output';
import { pages, resolveFlavor, resolveImage, resolveNetwork, resolveServer, resolveVolume } from '@minicloud/client';
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
  { name: 'shelve', description: 'shelve (power off, free the host: SHELVED_OFFLOADED)', action: () => ({ shelve: {} }) },
  { name: 'unshelve', description: 'unshelve (schedule again and boot)', action: () => ({ unshelve: {} }) },
  { name: 'unlock', description: 'unlock', action: () => ({ unlock: {} }) },
  { name: 'unrescue', description: 'leave rescue mode', action: () => ({ unrescue: {} }) },
];

/** `server resize confirm|revert` and the actions taking an argument. */
const resizeSub: { name: string; description: string; action: Partial<compute.ServerActionRequest> }[] = [
  { name: 'confirm', description: 'confirm a resize (VERIFY_RESIZE -> ACTIVE; frees the old claim)', action: { confirmResize: {} } },
  { name: 'revert', description: 'revert a resize (back to the old flavor and host)', action: { revertResize: {} } },
];

interface CreateOptions extends OutputOptions {
  image?: string;
  bootFromVolume?: number;
  volume?: string;
  flavor: string;
  network?: string[];
  count: number;
  wait?: boolean;
  timeout: number;
  availabilityZone?: string;
  property?: string[];
  hint?: string[];
  clientToken?: string;
}

/** `server create|list|show|delete` and the power/pause/suspend actions. */
export function registerServerCommands(program: Command, ctx: CommandContext): void {
  const server = program.command('server').description('compute servers (ComputeService)');

  withOutputOptions(
    server
      .command('create <name>')
      .description('boot servers; with --count N, all are placed or none')
      .option('--image <image>', 'image id or name (with --boot-from-volume: the image copied into the root volume)')
      .option('--boot-from-volume <size_gb>', 'boot from a new volume of this size made from --image (root disk /dev/vda)', (v) => parsePositiveInteger('--boot-from-volume', v))
      .option('--volume <volume>', 'boot from this existing volume (id or name; instead of --image)')
      .requiredOption('--flavor <flavor>', 'flavor id or name')
      .option('--network <network>', 'network id or name (repeatable)', collect)
      .option('--count <n>', 'number of servers', (v) => parsePositiveInteger('--count', v), 1)
      .option('--wait', 'wait until every server is ACTIVE or ERROR')
      .option('--timeout <seconds>', 'give up waiting after this long', (v) => parsePositiveInteger('--timeout', v), 300)
      .option('--availability-zone <az>', 'availability zone')
      .option('--property <key=value>', 'metadata (repeatable)', collect)
      .option('--hint <key=value>', 'scheduler hint: group=<id>, different_host=<ids>, same_host=<ids> (repeatable)', collect)
      .option('--client-token <token>', 'idempotency key: a retry with the same token makes no second server'),
  ).action(async (name: string, o: CreateOptions) => {
    const metadata = parseKeyValues('--property', o.property);
    const schedulerHints = parseKeyValues('--hint', o.hint);
    if (schedulerHints.group) {
      // Like the openstack CLI, accept a server group's name as well as its id.
      const groups = (await (await ctx.session.client('compute')).listServerGroups({})).serverGroups;
      schedulerHints.group = groups.find((g) => g.id === schedulerHints.group || g.name === schedulerHints.group)?.id ?? schedulerHints.group;
    }
    const [imageClient, computeClient, networkClient] = [await ctx.session.client('image'), await ctx.session.client('compute'), await ctx.session.client('network')];
    if (!o.image && !o.volume) throw new CliError('one of --image or --volume is required', 'INVALID_ARGUMENT');
    if (o.image && o.volume) throw new CliError('--image and --volume exclude each other (use --boot-from-volume to boot from a copy of the image)', 'INVALID_ARGUMENT');
    if (o.bootFromVolume && !o.image) throw new CliError('--boot-from-volume needs --image (the image copied into the new volume)', 'INVALID_ARGUMENT');
    const img = o.image ? await resolveImage(imageClient, o.image) : undefined;
    const blockDeviceMappings: Partial<compute.BlockDeviceMapping>[] = [];
    if (o.bootFromVolume) blockDeviceMappings.push({ sourceType: 'image', destinationType: 'volume', uuid: img!.id, volumeSizeGb: o.bootFromVolume, bootIndex: 0 });
    if (o.volume) {
      const v = await resolveVolume(await ctx.session.client('volume'), o.volume);
      blockDeviceMappings.push({ sourceType: 'volume', destinationType: 'volume', uuid: v.id, bootIndex: 0 });
    }
    const flavor = await resolveFlavor(computeClient, o.flavor);
    const networks = [];
    for (const ref of o.network ?? []) networks.push(await resolveNetwork(networkClient, ref));
    const res = await computeClient.createServer({
      name,
      imageRef: img && !o.bootFromVolume ? img.id : '',
      blockDeviceMappings: blockDeviceMappings.map((b) => compute.BlockDeviceMapping.fromPartial(b)),
      flavorRef: flavor.id,
      networks: networks.map((n) => ({ networkId: n.id })),
      minCount: o.count,
      maxCount: o.count,
      availabilityZone: o.availabilityZone ?? '',
      metadata,
      schedulerHints,
      clientToken: o.clientToken ?? '',
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
    const imageNames = new Map(img ? [[img.id, img.name]] : []);
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
    const servers = await pages((page) => c.listServers({ allProjects: !!o.allProjects, hostId: o.host ?? '', name: o.name ?? '', page }), 'servers');
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
    cmd.option('--wait', 'wait until the task ends').option('--timeout <seconds>', 'give up waiting after this long', (v) => parsePositiveInteger('--timeout', v), 300);
    cmd.action(async (refs: string[], o: { hard?: boolean; wait?: boolean; timeout: number }) => {
      const c = await ctx.session.client('compute');
      for (const ref of refs) {
        const s = await resolveServer(c, ref);
        await c.serverAction({ serverId: s.id, ...a.action(o) });
        if (o.wait) await waitForTask(ctx, s.id, o.timeout);
      }
    });
  }
  registerServerLifecycleCommands(server, ctx);
}

/**
 * `server resize|rebuild|lock|rescue|image create|set|unset|event list`: Nova's lifecycle actions and
 * metadata/tags (UpdateServer), each through ComputeService; `--wait` polls until the task ends.
 */
export function registerServerLifecycleCommands(server: Command, ctx: CommandContext): void {
  const act = async (ref: string, action: Partial<compute.ServerActionRequest>, wait?: { timeout: number }) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, ref);
    const res = await c.serverAction({ serverId: s.id, ...action });
    if (wait) await waitForTask(ctx, s.id, wait.timeout);
    return res;
  };
  const waitOpts = (cmd: Command) =>
    cmd.option('--wait', 'wait until the task ends').option('--timeout <seconds>', 'give up waiting after this long', (v) => parsePositiveInteger('--timeout', v), 300);

  const resize = waitOpts(server.command('resize <server>').description('resize to another flavor (then confirm or revert)').option('--flavor <flavor>', 'new flavor id or name'));
  resize.action(async (ref: string, o: { flavor?: string; wait?: boolean; timeout: number }) => {
    if (!o.flavor) throw new CliError('server resize needs --flavor (or use "server resize confirm|revert <server>")');
    await act(ref, { resize: { flavorRef: o.flavor } }, o.wait ? o : undefined);
  });
  for (const sub of resizeSub) {
    // `resize` has the same --wait/--timeout: commander gives them to it wherever they stand, so the
    // subcommand reads its parent's too (`server resize revert vm1 --wait` must wait).
    waitOpts(resize.command(`${sub.name} <server>`).description(sub.description)).action(async (ref: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ wait?: boolean; timeout: number }>();
      await act(ref, sub.action, o.wait ? o : undefined);
    });
  }
  waitOpts(server.command('rebuild <server>').description('destroy and spawn again on the same host (new image optional)').option('--image <image>', 'image id or name')).action(
    async (ref: string, o: { image?: string; wait?: boolean; timeout: number }) => {
      let imageRef = '';
      if (o.image) imageRef = (await resolveImage(await ctx.session.client('image'), o.image)).id;
      await act(ref, { rebuild: { imageRef, adminPass: '' } }, o.wait ? o : undefined);
    },
  );
  server
    .command('lock <server>')
    .description('lock: non-admins can no longer act on it')
    .option('--reason <text>', 'why')
    .action(async (ref: string, o: { reason?: string }) => void (await act(ref, { lock: { reason: o.reason ?? '' } })));
  waitOpts(server.command('rescue <server>').description('reboot into a rescue image').option('--image <image>', 'rescue image')).action(
    async (ref: string, o: { image?: string; wait?: boolean; timeout: number }) => void (await act(ref, { rescue: { rescueImageRef: o.image ?? '', adminPass: '' } }, o.wait ? o : undefined)),
  );
  const image = server.command('image').description('server snapshots');
  withOutputOptions(waitOpts(image.command('create <server>').description('snapshot the server into a new image').option('--name <name>', 'image name'))).action(
    async (ref: string, o: OutputOptions & { name?: string; wait?: boolean; timeout: number }) => {
      const name = o.name ?? `${ref}-snapshot`;
      const res = await act(ref, { createImage: { name, metadata: {} } }, o.wait ? o : undefined);
      ctx.printShow({ id: res.imageId, name, server_id: res.server?.id ?? '' }, o);
    },
  );
  withOutputOptions(
    server
      .command('set <server>')
      .description('set name, metadata (--property) or tags (--tag)')
      .option('--name <name>', 'new name')
      .option('--property <key=value>', 'metadata (repeatable)', collect)
      .option('--tag <tag>', 'add a tag (repeatable)', collect),
  ).action(async (ref: string, o: OutputOptions & { name?: string; property?: string[]; tag?: string[] }) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, ref);
    await c.updateServer({ serverId: s.id, name: o.name, setMetadata: parseKeyValues('--property', o.property), addTags: o.tag ?? [] });
  });
  server
    .command('unset <server>')
    .description('remove metadata keys (--property) or tags (--tag)')
    .option('--property <key>', 'metadata key (repeatable)', collect)
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .action(async (ref: string, o: { property?: string[]; tag?: string[] }) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, ref);
      await c.updateServer({ serverId: s.id, removeMetadata: o.property ?? [], removeTags: o.tag ?? [] });
    });
  const event = server.command('event').description('instance actions log (os-instance-actions)');
  withOutputOptions(event.command('list <server>').description('who did what to the server, when, with what result')).action(async (ref: string, o: OutputOptions) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, ref);
    const actions = (await c.listInstanceActions({ serverId: s.id })).actions;
    ctx.printList(
      actions.map((a) => ({ request_id: a.requestId, action: a.action, user_id: a.userId, start_time: a.startTime?.toISOString() ?? '', finish_time: a.finishTime?.toISOString() ?? '', result: a.result, message: a.message })),
      [
        { header: 'Request ID', key: 'request_id' },
        { header: 'Action', key: 'action' },
        { header: 'Start Time', key: 'start_time' },
        { header: 'Result', key: 'result' },
        { header: 'Message', key: 'message' },
      ],
      o,
    );
  });
}

/** Polls until the server has no task_state (or the timeout). */
async function waitForTask(ctx: CommandContext, id: string, timeout: number): Promise<void> {
  const c = await ctx.session.client('compute');
  await waitUntilSettled(
    [id],
    async () => {
      const s = (await c.getServer({ serverId: id })).server;
      if (!s) throw new NotFoundError('server', id);
      return { label: serverStatus(s), settled: s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED };
    },
    { timeoutSeconds: timeout, now: ctx.now, sleep: ctx.sleep, stderr: ctx.io.stderr, what: 'task finished' },
  );
}

/** image id -> name for the Image column; best effort (an unreachable image service shows ids). */
async function imageNames(ctx: CommandContext): Promise<Map<string, string>> {
  try {
    const c = await ctx.session.client('image');
    const images = await pages((page) => c.listImages({ page }), 'images');
    return new Map(images.map((i) => [i.id, i.name]));
  } catch {
    return new Map();
  }
}
