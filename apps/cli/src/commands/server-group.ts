import type { Command } from 'commander';
import { resolveServerGroup } from '@minicloud/client';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type OutputOptions } from '../output';
import { plainView } from '../views';
import { registerListShowDelete } from './resource-commands';

const COLUMNS = [
  ...ID_NAME,
  { header: 'Policy', key: 'policy' },
  { header: 'Members', key: 'member_ids' },
];

/** `server group create|list|show|delete` (Nova os-server-groups; boot into one with `server create --hint group=<id>`). */
export function registerServerGroupCommands(program: Command, ctx: CommandContext): void {
  const server = program.commands.find((c) => c.name() === 'server') ?? program.command('server');
  const group = server.command('group').description('server groups (affinity, anti-affinity, soft-affinity, soft-anti-affinity)');
  const client = () => ctx.session.client('compute');
  withOutputOptions(
    group
      .command('create <name>')
      .description('create a server group')
      .requiredOption('--policy <policy>', 'affinity, anti-affinity, soft-affinity or soft-anti-affinity')
      .option('--max-server-per-host <n>', 'anti-affinity: members allowed per host', (v) => parsePositiveInteger('--max-server-per-host', v)),
  ).action(async (name: string, o: OutputOptions & { policy: string; maxServerPerHost?: number }) => {
    if (o.maxServerPerHost && o.policy !== 'anti-affinity') throw new InvalidArgumentError('--max-server-per-host', 'only with --policy anti-affinity');
    const g = (await (await client()).createServerGroup({ name, policy: o.policy, maxServerPerHost: o.maxServerPerHost ?? 0 })).serverGroup!;
    ctx.printShow(plainView(g), o);
  });
  registerListShowDelete(group, ctx, {
    noun: 'server group',
    arg: 'group',
    list: async () => (await client().listServerGroups({})).serverGroups,
    columns: COLUMNS,
    view: plainView,
    resolve: (ref) => resolveServerGroup(client(), ref),
    remove: (serverGroupId) => client().deleteServerGroup({ serverGroupId }),
  });
}
