import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { resolveServer, resolveVolume } from '@minicloud/client';

/** The command `name` under `parent`, created when absent (groups such as `server add` are shared). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

/**
 * `server add volume <server> <volume> [--device /dev/vdb]` and `server remove volume <server> <volume>`
 * (openstack CLI names): ComputeService.ServerAction attach_volume / detach_volume, synchronous (the
 * volume is in-use / available when the command returns). `add` prints the attachment: id (the
 * volume service's attachment), server_id, volume_id, device.
 */
export function registerServerVolumeCommands(program: Command, ctx: CommandContext): void {
  const server = group(program, 'server', 'compute servers (ComputeService)');
  const add = group(server, 'add', 'attach something to a server');
  const remove = group(server, 'remove', 'detach something from a server');

  withOutputOptions(
    add
      .command('volume <server> <volume>')
      .description('attach a volume to a server (ServerAction attach_volume)')
      .option('--device <name>', 'device name, e.g. /dev/vdb (default: the next free one)'),
  ).action(async (serverRef: string, volumeRef: string, o: OutputOptions & { device?: string }) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, serverRef);
    const v = await resolveVolume(await ctx.session.client('volume'), volumeRef);
    const res = await c.serverAction({ serverId: s.id, attachVolume: { volumeId: v.id, deviceName: o.device ?? '' } });
    const att = res.server?.volumesAttached.find((a) => a.volumeId === v.id);
    ctx.printShow({ id: att?.attachmentId ?? '', server_id: s.id, volume_id: v.id, device: att?.deviceName ?? '' }, o);
  });

  remove
    .command('volume <server> <volume>')
    .description('detach a volume from a server (ServerAction detach_volume)')
    .action(async (serverRef: string, volumeRef: string) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, serverRef);
      // A volume the caller can no longer resolve by name may still be attached: fall back to the server's list by id.
      const attached = s.volumesAttached.find((a) => a.volumeId === volumeRef);
      const volumeId = attached ? attached.volumeId : (await resolveVolume(await ctx.session.client('volume'), volumeRef)).id;
      await c.serverAction({ serverId: s.id, detachVolume: { volumeId } });
    });
}
