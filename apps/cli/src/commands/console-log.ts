import type { Command } from 'commander';
import { resolveServer } from '@minicloud/client';
import type { CommandContext } from '../context';
import { CliError } from '../errors';

/** The command `name` under `parent`, created when absent (`server` is shared with other files). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

/**
 * `server console-log <server> [--lines N]` (ComputeService.GetConsoleOutput; `openstack console log
 * show`): prints the server's console log as is (the guest's boot: kernel and cloud-init lines),
 * the last N lines with --lines. A server with no console (no host, being deleted or migrated)
 * fails with the controller's message.
 */
export function registerConsoleLogCommands(program: Command, ctx: CommandContext): void {
  const server = group(program, 'server', 'compute servers (ComputeService)');
  server
    .command('console-log <server>')
    .description("show the server's console log (GetConsoleOutput)")
    .option('--lines <n>', 'only the last N lines')
    .action(async (ref: string, o: { lines?: string }) => {
      const length = o.lines === undefined ? undefined : Number(o.lines);
      if (length !== undefined && (!Number.isInteger(length) || length < 0)) throw new CliError(`--lines must be a whole number of 0 or more, got ${o.lines}`);
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, ref);
      const { output } = await c.getConsoleOutput({ serverId: s.id, length });
      ctx.out(output);
    });
}
