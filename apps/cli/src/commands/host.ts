import type { Command } from 'commander';
import { NotFoundError } from '@minicloud/domain-errors';
import { withOutputOptions, type CommandContext } from '../context';
import type { Column, OutputOptions } from '../output';
import { hostView, type View } from '../views';

/** `allocated/total` of a resource inventory view, e.g. "6/16". */
export function usedOfTotal(inventory: unknown): string {
  const inv = (inventory ?? {}) as View;
  return `${inv.allocated ?? 0}/${inv.total ?? 0}`;
}

/** Columns of `host list`. */
export const HOST_COLUMNS: Column[] = [
  { header: 'ID', key: 'id' },
  { header: 'State', key: 'state' },
  { header: 'Enabled', key: 'enabled' },
  { header: 'vCPUs (used/total)', key: 'vcpus', get: (v) => usedOfTotal(v.vcpus) },
  { header: 'RAM MB (used/total)', key: 'ram_mb', get: (v) => usedOfTotal(v.ram_mb) },
  { header: 'Running VMs', key: 'running_vms' },
  { header: 'Epoch', key: 'epoch' },
];

/** `host list|show` (ComputeService ListHosts/GetHost). */
export function registerHostCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('host').description('hypervisor hosts (ComputeService, admin)');
  withOutputOptions(cmd.command('list').description('list hosts')).action(async (o: OutputOptions) => {
    const c = await ctx.session.client('compute');
    ctx.printList((await c.listHosts({})).hosts.map(hostView), HOST_COLUMNS, o);
  });
  withOutputOptions(cmd.command('show <host>').description('show one host')).action(async (id: string, o: OutputOptions) => {
    const c = await ctx.session.client('compute');
    const host = (await c.getHost({ hostId: id })).host;
    if (!host) throw new NotFoundError('host', id);
    const view = hostView(host);
    ctx.printShow(view, o);
  });
}
