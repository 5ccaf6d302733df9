import type { Command } from 'commander';
import { parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { listAll } from '../paging';
import { resolveImage, resolveVolume } from '../resolve';
import { volumeView, type View } from '../views';

/** `volume create|list|show|delete`. */
export function registerVolumeCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('volume').description('block storage volumes (VolumeService)');

  withOutputOptions(
    cmd
      .command('create <name>')
      .description('create a volume')
      .requiredOption('--size <gb>', 'size in GB', (v) => parsePositiveInteger('--size', v))
      .option('--type <type>', 'volume type')
      .option('--image <image>', 'create from this image (id or name)')
      .option('--availability-zone <az>', 'availability zone'),
  ).action(async (name: string, o: OutputOptions & { size: number; type?: string; image?: string; availabilityZone?: string }) => {
    const c = await ctx.session.client('volume');
    const imageId = o.image ? (await resolveImage(await ctx.session.client('image'), o.image)).id : undefined;
    const res = await c.createVolume({ name, sizeGb: o.size, volumeType: o.type ?? '', availabilityZone: o.availabilityZone ?? '', imageId });
    ctx.printShow(volumeView(res.volume ?? ({} as never)), o);
  });

  withOutputOptions(cmd.command('list').description('list volumes')).action(async (o: OutputOptions) => {
    const c = await ctx.session.client('volume');
    const volumes = await listAll(async (pageToken) => {
      const r = await c.listVolumes({ page: { pageToken } });
      return { items: r.volumes, next: r.page?.nextPageToken };
    });
    ctx.printList(volumes.map(volumeView), [
      { header: 'ID', key: 'id' },
      { header: 'Name', key: 'name' },
      { header: 'Status', key: 'status' },
      { header: 'Size', key: 'size_gb' },
      {
        header: 'Attached to',
        key: 'attachments',
        get: (v) => ((v.attachments as View[] | undefined) ?? []).map((a) => `Attached to ${a.instance_id} on ${a.mountpoint}`).join('\n'),
      },
    ], o);
  });

  withOutputOptions(cmd.command('show <volume>').description('show one volume (id or name)')).action(async (ref: string, o: OutputOptions) => {
    ctx.printShow(volumeView(await resolveVolume(await ctx.session.client('volume'), ref)), o);
  });

  cmd
    .command('delete <volume...>')
    .description('delete volumes')
    .action(async (refs: string[]) => {
      const c = await ctx.session.client('volume');
      for (const ref of refs) await c.deleteVolume({ volumeId: (await resolveVolume(c, ref)).id });
    });
}
