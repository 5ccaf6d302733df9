import type { Command } from 'commander';
import { pages, resolveImage, resolveSnapshot, resolveVolume } from '@minicloud/client';
import { collect, parseKeyValues, parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type Column, type OutputOptions } from '../output';
import { plainView, volumeView, type View } from '../views';
import { registerListShowDelete } from './resource-commands';

/**
 * `volume create|list|show|delete|extend|retype`, `volume snapshot create|list|delete`,
 * `volume backup create|list|restore|delete`, `volume type list|create`, `volume pool list|set-state`.
 */
export function registerVolumeCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('volume').description('block storage volumes (VolumeService)');
  const vc = () => ctx.session.client('volume');

  withOutputOptions(
    cmd
      .command('create <name>')
      .description('create a volume (empty, or from an image, a snapshot or another volume)')
      .requiredOption('--size <gb>', 'size in GB', (v) => parsePositiveInteger('--size', v))
      .option('--type <type>', 'volume type')
      .option('--image <image>', 'create from this image (id or name)')
      .option('--snapshot <snapshot>', 'create from this snapshot (id or name)')
      .option('--source <volume>', 'clone this volume (id or name)')
      .option('--property <key=value>', 'metadata (repeatable)', collect)
      .option('--availability-zone <az>', 'availability zone'),
  ).action(async (name: string, o: OutputOptions & { size: number; type?: string; image?: string; snapshot?: string; source?: string; property?: string[]; availabilityZone?: string }) => {
    const sources = [o.image, o.snapshot, o.source].filter((x) => x !== undefined);
    if (sources.length > 1) throw new Error('give at most one of --image, --snapshot, --source');
    const c = await vc();
    const imageId = o.image ? (await resolveImage(await ctx.session.client('image'), o.image)).id : undefined;
    const snapshotId = o.snapshot ? (await resolveSnapshot(c, o.snapshot)).id : undefined;
    const sourceVolumeId = o.source ? (await resolveVolume(c, o.source)).id : undefined;
    const res = await c.createVolume({ name, sizeGb: o.size, volumeType: o.type ?? '', availabilityZone: o.availabilityZone ?? '', imageId, snapshotId, sourceVolumeId, metadata: parseKeyValues('--property', o.property) });
    ctx.printShow(volumeView(res.volume ?? ({} as never)), o);
  });

  registerListShowDelete(cmd, ctx, {
    noun: 'volume',
    list: async () => {
      const c = await vc();
      return pages((page) => c.listVolumes({ page }), 'volumes');
    },
    columns: [
      ...ID_NAME,
      { header: 'Status', key: 'status' },
      { header: 'Size', key: 'size_gb' },
      { header: 'Type', key: 'volume_type' },
      { header: 'Replication', key: 'replication_status' },
      {
        header: 'Attached to',
        key: 'attachments',
        get: (v) => ((v.attachments as View[] | undefined) ?? []).map((a) => `Attached to ${a.instance_id} on ${a.mountpoint}`).join('\n'),
      },
    ],
    view: volumeView,
    resolve: async (ref) => resolveVolume(await vc(), ref),
    remove: async (volumeId) => (await vc()).deleteVolume({ volumeId }),
  });

  withOutputOptions(
    cmd
      .command('extend <volume>')
      .description('grow an available volume')
      .requiredOption('--size <gb>', 'new size in GB', (v) => parsePositiveInteger('--size', v)),
  ).action(async (ref: string, o: OutputOptions & { size: number }) => {
    const c = await vc();
    ctx.printShow(volumeView((await c.extendVolume({ volumeId: (await resolveVolume(c, ref)).id, newSizeGb: o.size })).volume!), o);
  });

  withOutputOptions(cmd.command('retype <volume> <type>').description('change the volume type (migrates when the pool does not serve it)')).action(async (ref: string, type: string, o: OutputOptions) => {
    const c = await vc();
    ctx.printShow(volumeView((await c.retypeVolume({ volumeId: (await resolveVolume(c, ref)).id, newVolumeType: type })).volume!), o);
  });

  /** `<parent> list [--volume <volume>]`: a volume's snapshots or backups, or all of the project's. */
  const listOfVolume = <T extends object>(parent: Command, noun: string, list: (volumeId: string) => Promise<T[]>, columns: Column[]) =>
    withOutputOptions(parent.command('list').description(`list ${noun}s`).option('--volume <volume>', 'only this volume\'s')).action(async (o: OutputOptions & { volume?: string }) => {
      const volumeId = o.volume ? (await resolveVolume(vc(), o.volume)).id : '';
      ctx.printList((await list(volumeId)).map(plainView), [...ID_NAME, { header: 'Volume', key: 'volume_id' }, ...columns], o);
    });

  // ---- snapshots ----
  const snap = cmd.command('snapshot').description('volume snapshots (copy-on-write)');
  withOutputOptions(snap.command('create <volume>').description('snapshot a volume').option('--name <name>', 'snapshot name', '').option('--force', 'allow an in-use volume')).action(
    async (ref: string, o: OutputOptions & { name: string; force?: boolean }) => {
      const c = await vc();
      ctx.printShow(plainView((await c.createSnapshot({ volumeId: (await resolveVolume(c, ref)).id, name: o.name, force: !!o.force })).snapshot!), o);
    },
  );
  listOfVolume(snap, 'snapshot', async (volumeId) => (await vc().listSnapshots({ volumeId })).snapshots, [
    { header: 'Status', key: 'status' },
    { header: 'Size', key: 'size_gb' },
  ]);
  snap
    .command('delete <snapshot...>')
    .description('delete snapshots')
    .action(async (refs: string[]) => {
      const c = await vc();
      for (const ref of refs) await c.deleteSnapshot({ snapshotId: (await resolveSnapshot(c, ref)).id });
    });

  // ---- backups ----
  const backup = cmd.command('backup').description('volume backups (stored in the image service)');
  withOutputOptions(backup.command('create <volume>').description('back a volume up').option('--name <name>', 'backup name', '').option('--incremental', 'only blocks changed since the latest backup')).action(
    async (ref: string, o: OutputOptions & { name: string; incremental?: boolean }) => {
      const c = await vc();
      ctx.printShow(plainView((await c.createBackup({ volumeId: (await resolveVolume(c, ref)).id, name: o.name, incremental: !!o.incremental })).backup!), o);
    },
  );
  listOfVolume(backup, 'backup', async (volumeId) => (await vc().listBackups({ volumeId })).backups, [
    { header: 'Incremental', key: 'incremental' },
    { header: 'Parent', key: 'parent_backup_id' },
    { header: 'Blocks', key: 'block_count' },
    { header: 'Bytes', key: 'size_bytes' },
  ]);
  withOutputOptions(backup.command('restore <backup>').description('restore a backup into a new volume').option('--name <name>', 'new volume name', '').option('--type <type>', 'volume type of the new volume')).action(
    async (id: string, o: OutputOptions & { name: string; type?: string }) => {
      const c = await vc();
      ctx.printShow(volumeView((await c.restoreBackup({ backupId: id, name: o.name, volumeType: o.type ?? '' })).volume!), o);
    },
  );
  backup
    .command('delete <backup...>')
    .description('delete backups (incrementals before their parent)')
    .action(async (ids: string[]) => {
      const c = await vc();
      for (const id of ids) await c.deleteBackup({ backupId: id });
    });

  // ---- types and pools ----
  const type = cmd.command('type').description('volume types');
  withOutputOptions(type.command('list').description('list volume types')).action(async (o: OutputOptions) => {
    ctx.printList((await (await vc()).listVolumeTypes({})).volumeTypes.map(plainView), [
      { header: 'Name', key: 'name' },
      { header: 'Extra specs', key: 'extra_specs', get: (t) => Object.entries((t.extra_specs as Record<string, string> | undefined) ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') },
    ], o);
  });
  withOutputOptions(type.command('create <name>').description('create a volume type (admin)').option('--property <key=value>', 'extra spec, e.g. qos:read_iops_sec=500, replication_count=2, multiattach="<is> True" (repeatable)', collect)).action(
    async (name: string, o: OutputOptions & { property?: string[] }) => {
      ctx.printShow(plainView((await (await vc()).createVolumeType({ name, extraSpecs: parseKeyValues('--property', o.property) })).volumeType!), o);
    },
  );

  const pool = cmd.command('pool').description('storage pools (admin)');
  const poolColumns = [
    { header: 'Name', key: 'name' },
    { header: 'Node', key: 'storage_node' },
    { header: 'Up', key: 'up' },
    { header: 'Total GB', key: 'total_capacity_gb' },
    { header: 'Provisioned GB', key: 'provisioned_capacity_gb' },
    { header: 'Free GB', key: 'free_capacity_gb' },
    { header: 'Ratio', key: 'max_over_subscription_ratio' },
    { header: 'Types', key: 'volume_types', get: (p: View) => ((p.volume_types as string[] | undefined) ?? []).join(', ') },
  ];
  withOutputOptions(pool.command('list').description('list pools')).action(async (o: OutputOptions) => {
    ctx.printList((await (await vc()).listPools({})).pools.map(plainView), poolColumns, o);
  });
  withOutputOptions(
    pool
      .command('set-state')
      .description('mark a pool (or every pool of a storage node) up or down; down loses its copies, which are repaired elsewhere')
      .option('--pool <pool>', 'backend@pool')
      .option('--node <node>', 'storage node')
      .option('--down', 'mark down (default: up)'),
  ).action(async (o: OutputOptions & { pool?: string; node?: string; down?: boolean }) => {
    const res = await (await vc()).setPoolState({ pool: o.pool ?? '', storageNode: o.node ?? '', up: !o.down });
    ctx.printList(res.pools.map(plainView), poolColumns, o);
    if (res.degradedVolumeIds.length) ctx.io.stderr.write(`degraded: ${res.degradedVolumeIds.join(', ')}\n`);
    if (res.repairedVolumeIds.length) ctx.io.stderr.write(`repaired: ${res.repairedVolumeIds.join(', ')}\n`);
  });
}
