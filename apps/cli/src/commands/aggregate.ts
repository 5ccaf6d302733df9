import type { Command } from 'commander';
import { resolveAggregate } from '@minicloud/client';
import { collect, parseKeyValues } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type OutputOptions } from '../output';
import { plainView } from '../views';
import { registerListShowDelete } from './resource-commands';

const COLUMNS = [
  ...ID_NAME,
  { header: 'Availability Zone', key: 'availability_zone' },
  { header: 'Hosts', key: 'host_ids' },
];

/**
 * `aggregate create|list|show|delete|add host|remove host|set|unset` (admin; Nova os-aggregates) and
 * `availability zone list`. Metadata via `--property key=value`: cpu/ram/disk_allocation_ratio,
 * `<weigher>_weight_multiplier`, keys matched by flavors' `aggregate_instance_extra_specs:*`.
 */
export function registerAggregateCommands(program: Command, ctx: CommandContext): void {
  const agg = program.command('aggregate').description('host aggregates (ComputeService, admin)');
  const client = () => ctx.session.client('compute');
  const find = (ref: string) => resolveAggregate(client(), ref);

  withOutputOptions(agg.command('create <name>').description('create an aggregate').option('--zone <az>', 'availability zone it exposes')).action(
    async (name: string, o: OutputOptions & { zone?: string }) => {
      const a = (await (await client()).createAggregate({ name, availabilityZone: o.zone ?? '' })).aggregate!;
      ctx.printShow(plainView(a), o);
    },
  );
  registerListShowDelete(agg, ctx, {
    noun: 'aggregate',
    list: async () => (await client().listAggregates({})).aggregates,
    columns: COLUMNS,
    view: plainView,
    resolve: find,
    // Only an empty aggregate can be deleted (Nova's rule, enforced by the service).
    remove: (aggregateId) => client().deleteAggregate({ aggregateId }),
  });
  const add = agg.command('add').description('add to an aggregate');
  const remove = agg.command('remove').description('remove from an aggregate');
  withOutputOptions(add.command('host <aggregate> <host>').description('add a host')).action(async (ref: string, host: string, o: OutputOptions) => {
    ctx.printShow(plainView((await (await client()).addAggregateHost({ aggregateId: (await find(ref)).id, hostId: host })).aggregate!), o);
  });
  withOutputOptions(remove.command('host <aggregate> <host>').description('remove a host')).action(async (ref: string, host: string, o: OutputOptions) => {
    ctx.printShow(plainView((await (await client()).removeAggregateHost({ aggregateId: (await find(ref)).id, hostId: host })).aggregate!), o);
  });
  withOutputOptions(agg.command('set <aggregate>').description('set metadata').option('--property <key=value>', 'metadata (repeatable)', collect).option('--zone <az>', 'availability zone')).action(
    async (ref: string, o: OutputOptions & { property?: string[]; zone?: string }) => {
      const metadata = parseKeyValues('--property', o.property);
      if (o.zone) metadata.availability_zone = o.zone;
      ctx.printShow(plainView((await (await client()).setAggregateMetadata({ aggregateId: (await find(ref)).id, metadata, unset: [] })).aggregate!), o);
    },
  );
  agg
    .command('unset <aggregate>')
    .description('remove metadata keys')
    .option('--property <key>', 'key (repeatable)', collect)
    .action(async (ref: string, o: { property?: string[] }) => {
      await (await client()).setAggregateMetadata({ aggregateId: (await find(ref)).id, metadata: {}, unset: o.property ?? [] });
    });

  const az = program.command('availability').description('availability zones').command('zone').description('availability zones');
  withOutputOptions(az.command('list').description('list availability zones')).action(async (o: OutputOptions) => {
    const zones = (await (await client()).listAvailabilityZones({})).availabilityZones;
    ctx.printList(
      zones.map((z) => ({ zone_name: z.name, zone_status: z.available ? 'available' : 'not available', hosts: z.hostIds.join(', ') })),
      [
        { header: 'Zone Name', key: 'zone_name' },
        { header: 'Zone Status', key: 'zone_status' },
        { header: 'Hosts', key: 'hosts' },
      ],
      o,
    );
  });
}
