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
  const update = async (req: { hostId: string; enabled?: boolean; disabledReason?: string; maintenance?: boolean }, o: OutputOptions) => {
    const c = await ctx.session.client('compute');
    const host = (await c.updateHost(req)).host;
    if (!host) throw new NotFoundError('host', req.hostId);
    ctx.printShow(hostView(host), o);
  };
  withOutputOptions(cmd.command('disable <host>').description('stop scheduling new servers on a host').option('--reason <text>', 'disabled reason', '')).action(
    async (id: string, o: OutputOptions & { reason: string }) => update({ hostId: id, enabled: false, disabledReason: o.reason }, o),
  );
  withOutputOptions(cmd.command('enable <host>').description('schedule on a host again')).action(async (id: string, o: OutputOptions) => update({ hostId: id, enabled: true }, o));
  withOutputOptions(
    cmd
      .command('maintenance <host>')
      .description('put a host in maintenance (disabled, HA ignores it; draining by live migration comes later) or take it out with --off')
      .option('--off', 'leave maintenance', false),
  ).action(async (id: string, o: OutputOptions & { off: boolean }) => update({ hostId: id, maintenance: !o.off }, o));
}
