import type { Command } from 'commander';
import type { compute } from '@minicloud/proto';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { resolveNetwork, resolvePort, resolveServer } from '@minicloud/client';
import { CliError } from '../errors';

/** The command `name` under `parent`, created when absent (groups such as `server add` are shared). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

/** An attached interface as the commands print it (Nova's interfaceAttachment fields). */
function attachmentRow(a: compute.InterfaceAttachment | undefined, serverId: string): Record<string, unknown> {
  return {
    port_id: a?.portId ?? '',
    server_id: serverId,
    network_id: a?.networkId ?? '',
    mac_address: a?.macAddress ?? '',
    fixed_ips: (a?.fixedIps ?? []).map((f) => `${f.ipAddress} (subnet ${f.subnetId})`).join(', '),
    port_state: a?.portState ?? '',
  };
}

/**
 * `server add port <server> <port>`, `server add network <server> <network> [--fixed-ip-address IP]`,
 * `server remove port <server> <port>` and `server remove network <server> <network>` (the openstack
 * CLI's names): ComputeService.ServerAction attach_interface / detach_interface, synchronous (the
 * vNIC is plugged or unplugged when the command returns). `add` prints the attached interface;
 * `remove network` detaches every interface of the server on that network (none: an error).
 */
export function registerServerInterfaceCommands(program: Command, ctx: CommandContext): void {
  const server = group(program, 'server', 'compute servers (ComputeService)');
  const add = group(server, 'add', 'attach something to a server');
  const remove = group(server, 'remove', 'detach something from a server');

  withOutputOptions(add.command('port <server> <port>').description('attach an existing port to a server (ServerAction attach_interface)')).action(
    async (serverRef: string, portRef: string, o: OutputOptions) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, serverRef);
      const p = await resolvePort(await ctx.session.client('network'), portRef);
      const res = await c.serverAction({ serverId: s.id, attachInterface: { portId: p.id } });
      ctx.printShow(attachmentRow(res.interfaceAttachment, s.id), o);
    },
  );

  withOutputOptions(
    add
      .command('network <server> <network>')
      .description('attach a new port on a network to a server (ServerAction attach_interface)')
      .option('--fixed-ip-address <ip>', 'the IPv4 address of the new port (default: allocated)'),
  ).action(async (serverRef: string, networkRef: string, o: OutputOptions & { fixedIpAddress?: string }) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, serverRef);
    const n = await resolveNetwork(await ctx.session.client('network'), networkRef);
    const res = await c.serverAction({ serverId: s.id, attachInterface: { networkId: n.id, fixedIpAddress: o.fixedIpAddress ?? '' } });
    ctx.printShow(attachmentRow(res.interfaceAttachment, s.id), o);
  });

  remove
    .command('port <server> <port>')
    .description('detach a port from a server (ServerAction detach_interface; a port the server made is deleted, yours is kept)')
    .action(async (serverRef: string, portRef: string) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, serverRef);
      // An id among the server's interfaces needs no look-up (the port may be named ambiguously).
      const own = (await c.listInterfaces({ serverId: s.id })).interfaceAttachments.find((a) => a.portId === portRef);
      const portId = own ? own.portId : (await resolvePort(await ctx.session.client('network'), portRef)).id;
      await c.serverAction({ serverId: s.id, detachInterface: { portId } });
    });

  remove
    .command('network <server> <network>')
    .description("detach every interface of a server on a network (ServerAction detach_interface per port)")
    .action(async (serverRef: string, networkRef: string) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, serverRef);
      const n = await resolveNetwork(await ctx.session.client('network'), networkRef);
      const ports = (await c.listInterfaces({ serverId: s.id })).interfaceAttachments.filter((a) => a.networkId === n.id);
      if (ports.length === 0) throw new CliError(`server ${s.id} has no interface on network ${n.id}`, 'NOT_FOUND');
      for (const p of ports) await c.serverAction({ serverId: s.id, detachInterface: { portId: p.portId } });
    });
}
