import type { Command } from 'commander';
import { resolveServerGroup } from '@minicloud/client';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { plainView } from '../views';

const COLUMNS = [
  { header: 'ID', key: 'id' },
  { header: 'Name', key: 'name' },
  { header: 'Policy', key: 'policy' },
  { header: 'Members', key: 'member_ids' },
];

/** `server group create|list|show|delete` (Nova os-server-groups; boot into one with `server create --hint group=<id>`). */
export function registerServerGroupCommands(program: Command, ctx: CommandContext): void {
  const server = program.commands.find((c) => c.name() === 'server') ?? program.command('server');
  const group = server.command('group').description('server groups (affinity, anti-affinity, soft-affinity, soft-anti-affinity)');
  const client = () => ctx.session.client('compute');
  const find = async (ref: string) => resolveServerGroup(await client(), ref);
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
  withOutputOptions(group.command('list').description('list server groups')).action(async (o: OutputOptions) => {
    ctx.printList((await (await client()).listServerGroups({})).serverGroups.map(plainView), COLUMNS, o);
  });
  withOutputOptions(group.command('show <group>').description('show a server group')).action(async (ref: string, o: OutputOptions) => {
    ctx.printShow(plainView(await find(ref)), o);
  });
  group.command('delete <group>').description('delete a server group').action(async (ref: string) => {
    await (await client()).deleteServerGroup({ serverGroupId: (await find(ref)).id });
  });
}
