import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { OutputOptions } from '../output';
import { resolveServer } from '@minicloud/client';
import { serverView } from '../views';

/** The command `name` under `parent`, created when absent (`server` is shared with other files). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

/**
 * `server ft enable|disable <server> [--wait]` (SetServerFaultTolerance, admin; vSphere's Turn On /
 * Turn Off Fault Tolerance): a hot-standby secondary on another host kept in step by checkpoints
 * (docs/fault-tolerance.md). Prints the server with its ft_state and ft_secondary_host_id; `--wait`
 * (enable) waits until ft_state is protected.
 */
export function registerFtCommands(program: Command, ctx: CommandContext): void {
  const server = group(program, 'server', 'compute servers (ComputeService)');
  const ft = server.command('ft').description('fault tolerance: a hot-standby secondary on another host (admin)');
  for (const action of ['enable', 'disable'] as const) {
    const cmd = ft.command(`${action} <server>`).description(action === 'enable' ? 'turn fault tolerance on (places and synchronises a secondary)' : 'turn fault tolerance off (the secondary is removed)');
    if (action === 'enable') cmd.option('--wait', 'wait until ft_state is protected').option('--timeout <seconds>', 'with --wait: give up after this long', '120');
    withOutputOptions(cmd).action(async (ref: string, o: OutputOptions & { wait?: boolean; timeout?: string }) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, ref);
      let cur = (await c.setServerFaultTolerance({ serverId: s.id, enabled: action === 'enable' })).server;
      if (o.wait) {
        const deadline = ctx.now() + Number(o.timeout ?? '120') * 1000;
        while (cur && cur.ftState !== 'protected' && ctx.now() < deadline) {
          await ctx.sleep(500);
          cur = (await c.getServer({ serverId: s.id })).server;
        }
        if (cur?.ftState !== 'protected') throw new CliError(`server ${s.id} not protected within ${o.timeout} s (ft_state ${cur?.ftState ?? 'unknown'})`);
      }
      if (cur) ctx.printShow(serverView(cur), o);
    });
  }
}
