import type { Command } from 'commander';
import { compute } from '@minicloud/proto';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { Column, OutputOptions } from '../output';
import { resolveServer, type CloudClients } from '@minicloud/client';
import type { View } from '../views';

/** The command `name` under `parent`, created when absent (`server`/`host` are shared with other files). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

const COLUMNS: Column[] = ['server_id', 'name', 'from_host', 'result', 'host', 'status'].map((k) => ({ header: k, key: k }));

type ComputeClient = CloudClients['compute'];

/** Waits until the server is ACTIVE on a host other than `from` (or ERROR); returns it. */
async function waitEvacuated(ctx: CommandContext, c: ComputeClient, id: string, from: string, timeoutS: number): Promise<compute.Server | undefined> {
  const deadline = ctx.now() + timeoutS * 1000;
  let s: compute.Server | undefined;
  for (;;) {
    s = (await c.getServer({ serverId: id })).server;
    const moved = s && s.hostId !== from && s.vmState === compute.VmState.VM_STATE_ACTIVE && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
    if (!s || moved || ctx.now() >= deadline) return s;
    await ctx.sleep(500);
  }
}

/**
 * `server evacuate <server> [--host H] [--wait]` and `host evacuate <host> [--target-host H] [--wait]`
 * (ServerAction evacuate, admin; Nova's `openstack server evacuate` / `nova host-evacuate`): restarts
 * the server(s) of a DOWN host elsewhere, through the HA loop's evacuation (the host is fenced first).
 * A host that is still up is refused ("Compute service of <host> is still in use"). `host evacuate`
 * tries every server of the host and prints one row each (exit 1 if any was refused or did not come up).
 */
export function registerEvacuateCommands(program: Command, ctx: CommandContext): void {
  const server = group(program, 'server', 'compute servers (ComputeService)');
  withOutputOptions(
    server
      .command('evacuate <server>')
      .description('restart a server of a down host on another host (ServerAction evacuate; admin)')
      .option('--host <host>', 'target host (the scheduler filters must still pass); default: the scheduler picks')
      .option('--wait', 'wait until it is ACTIVE on its new host')
      .option('--timeout <seconds>', 'with --wait: give up after this long', '300'),
  ).action(async (ref: string, o: OutputOptions & { host?: string; wait?: boolean; timeout: string }) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, ref);
    await c.serverAction({ serverId: s.id, evacuate: { hostId: o.host ?? '' } });
    const cur = o.wait ? await waitEvacuated(ctx, c, s.id, s.hostId, Number(o.timeout)) : (await c.getServer({ serverId: s.id })).server;
    const row = { server_id: s.id, name: s.name, from_host: s.hostId, result: 'accepted', host: cur?.hostId ?? '', status: cur?.status ?? '' };
    ctx.printShow(row, o);
    if (o.wait && (!cur || cur.hostId === s.hostId || cur.vmState !== compute.VmState.VM_STATE_ACTIVE)) throw new CliError(`server ${s.id} not ACTIVE on another host within ${o.timeout} s${cur?.fault?.message ? `: ${cur.fault.message}` : ''}`);
  });

  const host = group(program, 'host', 'hypervisor hosts (ComputeService, admin)');
  withOutputOptions(
    host
      .command('evacuate <host>')
      .description('restart every server of a down host elsewhere (ServerAction evacuate per server; admin)')
      .option('--target-host <host>', 'target host for all of them; default: the scheduler picks per server')
      .option('--wait', 'wait until each accepted one is ACTIVE on its new host')
      .option('--timeout <seconds>', 'with --wait: give up after this long (per server)', '300'),
  ).action(async (hostId: string, o: OutputOptions & { targetHost?: string; wait?: boolean; timeout: string }) => {
    const c = await ctx.session.client('compute');
    const servers = (await c.listServers({ hostId, allProjects: true, page: { pageSize: 1000 } })).servers.filter((s) => s.hostId === hostId);
    const rows: View[] = [];
    let failed = 0;
    for (const s of servers) {
      try {
        await c.serverAction({ serverId: s.id, evacuate: { hostId: o.targetHost ?? '' } });
        rows.push({ server_id: s.id, name: s.name, from_host: hostId, result: 'accepted', host: '', status: '' });
      } catch (e) {
        failed++;
        rows.push({ server_id: s.id, name: s.name, from_host: hostId, result: `refused: ${e instanceof Error ? e.message : String(e)}`, host: s.hostId, status: s.status });
      }
    }
    if (o.wait) {
      for (const row of rows.filter((r) => r.result === 'accepted')) {
        const cur = await waitEvacuated(ctx, c, String(row.server_id), hostId, Number(o.timeout));
        row.host = cur?.hostId ?? '';
        row.status = cur?.status ?? '';
        if (!cur || cur.hostId === hostId || cur.vmState !== compute.VmState.VM_STATE_ACTIVE) failed++;
      }
    }
    ctx.printList(rows, COLUMNS, o);
    if (failed > 0) throw new CliError(`${failed} of ${servers.length} server(s) of ${hostId} not evacuated`);
  });
}
