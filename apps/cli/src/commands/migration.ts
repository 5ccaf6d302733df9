import type { Command } from 'commander';
import type { compute } from '@minicloud/proto';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { Column, OutputOptions } from '../output';
import { resolveServer } from '@minicloud/client';
import type { View } from '../views';

/** The command `name` under `parent`, created when absent (`server` is shared with other files). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** One compute.Migration as a CLI view: bytes as bytes, times in ms. */
export function migrationView(m: compute.Migration): View {
  return {
    id: m.id,
    server_id: m.instanceId,
    type: m.migrationType,
    source_host: m.sourceHostId,
    dest_host: m.destHostId,
    status: m.status,
    rounds: m.rounds,
    transferred_bytes: Number(m.transferredBytes),
    remaining_bytes: Number(m.remainingBytes),
    total_time_ms: Number(m.totalTimeMs),
    downtime_ms: Number(m.downtimeMs),
    cpu_throttle_percentage: m.cpuThrottlePercentage,
    error: m.error,
  };
}

const COLUMNS: Column[] = ['id', 'server_id', 'type', 'source_host', 'dest_host', 'status', 'rounds', 'transferred_bytes', 'total_time_ms', 'downtime_ms'].map((k) => ({
  header: k,
  key: k,
}));

/**
 * `server migrate <server> --live [--host H] [--wait] [--timeout S]` (ServerAction migrate; admin):
 * prints the migration record, after it ended with --wait (exit code 1 when it failed or was
 * cancelled). Without --live: cold migration; --wait waits for VERIFY_RESIZE (or ERROR, exit 1). `server migration list [--server S] [--host H]` (ListMigrations).
 * `server migration abort|force-complete <server> <migration>` (AbortServerMigration,
 * ForceCompleteServerMigration; admin): prints the record as it stands; the outcome follows in `list`.
 */
export function registerMigrationCommands(program: Command, ctx: CommandContext): void {
  const server = group(program, 'server', 'compute servers (ComputeService)');
  withOutputOptions(
    server
      .command('migrate <server>')
      .description('migrate a server to another host (ServerAction migrate; admin)')
      .option('--live', 'live migration (the VM keeps running); without it a cold migration (power off, move, VERIFY_RESIZE: confirm with `server resize confirm`)')
      .option('--host <host>', 'destination host (default: the scheduler picks one other than the source)')
      .option('--wait', 'wait until the migration completed, failed or was cancelled')
      .option('--timeout <seconds>', 'with --wait: give up after this long', '600'),
  ).action(async (serverRef: string, o: OutputOptions & { live?: boolean; host?: string; wait?: boolean; timeout: string }) => {
    const c = await ctx.session.client('compute');
    const s = await resolveServer(c, serverRef);
    const res = await c.serverAction({ serverId: s.id, migrate: { live: !!o.live, hostId: o.host ?? '' } });
    if (!o.live) {
      let cur = res.server;
      if (o.wait) {
        const deadline = ctx.now() + Number(o.timeout) * 1000;
        while (cur && !['VERIFY_RESIZE', 'ERROR'].includes(cur.status) && ctx.now() < deadline) {
          await ctx.sleep(500);
          cur = (await c.getServer({ serverId: s.id })).server;
        }
      }
      ctx.printShow({ id: res.migrationId, server_id: s.id, type: 'migration', server_status: cur?.status ?? '', host: cur?.hostId ?? '' }, o);
      if (cur?.status === 'ERROR') throw new CliError(`cold migration of ${s.id} failed: ${cur.fault?.message ?? 'no reason given'}`);
      return;
    }
    const find = async () => (await c.listMigrations({ serverId: s.id })).migrations.find((m) => m.id === res.migrationId);
    let m = await find();
    if (o.wait) {
      const deadline = ctx.now() + Number(o.timeout) * 1000;
      while (m && !TERMINAL.has(m.status) && ctx.now() < deadline) {
        await ctx.sleep(500);
        m = await find();
      }
      if (!m || !TERMINAL.has(m.status)) throw new CliError(`migration ${res.migrationId} did not end within ${o.timeout} s`);
    }
    ctx.printShow(m ? migrationView(m) : { id: res.migrationId, server_id: s.id, status: 'queued' }, o);
    if (m && (m.status === 'failed' || m.status === 'cancelled')) throw new CliError(`migration ${m.id} ${m.status}: ${m.error || 'no reason given'}`);
  });

  const migration = group(server, 'migration', 'server migrations (ListMigrations)');
  withOutputOptions(
    migration
      .command('list')
      .description('list migrations (live migrations and resizes in flight)')
      .option('--server <server>', 'only this server')
      .option('--host <host>', 'only migrations from or to this host'),
  ).action(async (o: OutputOptions & { server?: string; host?: string }) => {
    const c = await ctx.session.client('compute');
    const serverId = o.server ? (await resolveServer(c, o.server)).id : '';
    const { migrations } = await c.listMigrations({ serverId, hostId: o.host ?? '' });
    ctx.printList(migrations.map(migrationView), COLUMNS, o);
  });

  for (const [name, description] of [
    ['abort', 'abort a running live migration: the server keeps running on its source (Nova\'s server migration abort; admin)'],
    ['force-complete', 'end a running live migration now: post-copy when the cloud permits it, else the server is paused until the copy ends (admin)'],
  ] as const) {
    withOutputOptions(migration.command(`${name} <server> <migration>`).description(description)).action(async (serverRef: string, migrationId: string, o: OutputOptions) => {
      const c = await ctx.session.client('compute');
      const s = await resolveServer(c, serverRef);
      const req = { serverId: s.id, migrationId };
      const res = name === 'abort' ? await c.abortServerMigration(req) : await c.forceCompleteServerMigration(req);
      ctx.printShow(res.migration ? migrationView(res.migration) : { id: migrationId, server_id: s.id }, o);
    });
  }
}
