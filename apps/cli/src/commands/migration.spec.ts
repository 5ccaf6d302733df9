import { compute } from '@minicloud/proto';
import { fakeServerLookup, loggedInCli } from '../testing/fake-cli';

/** In-process CLI against a fake compute whose migration goes running -> `final` over two polls. */
async function loggedIn(final: 'completed' | 'failed') {
  const actions: compute.ServerActionRequest[] = [];
  const listed: compute.ListMigrationsRequest[] = [];
  let polls = 0;
  const srv = compute.Server.fromPartial({ id: 's1', name: 'web' });
  const mig = (status: string) =>
    compute.Migration.fromPartial({ id: 'm1', instanceId: 's1', migrationType: 'live-migration', sourceHostId: 'h1', destHostId: 'h2', status, rounds: 3, transferredBytes: 300_000_000, totalTimeMs: 2500, downtimeMs: 120, error: status === 'failed' ? 'timeout' : '' });
  const fakes = {
    compute: {
      ...fakeServerLookup(srv),
      serverAction: (req: compute.ServerActionRequest) => {
        actions.push(req);
        return { server: srv, migrationId: 'm1' };
      },
      listMigrations: (req: compute.ListMigrationsRequest) => {
        listed.push(req);
        return { migrations: [mig(++polls >= 3 ? final : 'running')] };
      },
    },
  };
  const cli = await loggedInCli({ dirPrefix: 'mc-cli-mig-', services: fakes });
  return { out: cli.out, actions, listed, run: cli.run };
}

describe('minicloud server migrate / server migration list', () => {
  it('migrate --live --host --wait sends migrate{live, host_id}, polls until the record ends and prints it', async () => {
    const h = await loggedIn('completed');
    expect(await h.run('server', 'migrate', 'web', '--live', '--host', 'h2', '--wait', '-f', 'json')).toBe(0);
    expect(h.actions).toEqual([expect.objectContaining({ serverId: 's1', migrate: expect.objectContaining({ live: true, hostId: 'h2' }) })]);
    expect(JSON.parse(h.out.stdout)).toMatchObject({ id: 'm1', status: 'completed', rounds: 3, downtime_ms: 120, total_time_ms: 2500, dest_host: 'h2' });
  });

  it('a failed migration exits 1 with its error', async () => {
    const h = await loggedIn('failed');
    expect(await h.run('server', 'migrate', 'web', '--live', '--wait')).toBe(1);
    expect(h.out.stderr).toMatch(/m1 failed: timeout/);
  });

  it('without --live sends a cold migrate{live: false} and prints the migration id', async () => {
    const h = await loggedIn('completed');
    expect(await h.run('server', 'migrate', 'web', '-f', 'json')).toBe(0);
    expect(h.actions[0].migrate).toMatchObject({ live: false, hostId: '' });
    expect(JSON.parse(h.out.stdout)).toMatchObject({ id: 'm1', server_id: 's1', type: 'migration' });
  });

  it('migration list --server resolves the name and filters by server id', async () => {
    const h = await loggedIn('completed');
    expect(await h.run('server', 'migration', 'list', '--server', 'web', '-f', 'json')).toBe(0);
    expect(h.listed[0]).toMatchObject({ serverId: 's1' });
    expect(JSON.parse(h.out.stdout)[0]).toMatchObject({ id: 'm1', type: 'live-migration', source_host: 'h1' });
  });

  it('migration abort and force-complete resolve the server and send its id with the migration id', async () => {
    const sent: Array<[string, compute.AbortServerMigrationRequest]> = [];
    const srv = compute.Server.fromPartial({ id: 's1', name: 'web' });
    const mig = compute.Migration.fromPartial({ id: 'm1', instanceId: 's1', migrationType: 'live-migration', status: 'running' });
    const cli = await loggedInCli({
      dirPrefix: 'mc-cli-mig-',
      services: {
        compute: {
          ...fakeServerLookup(srv),
          abortServerMigration: (req: compute.AbortServerMigrationRequest) => (sent.push(['abort', req]), { migration: mig }),
          forceCompleteServerMigration: (req: compute.ForceCompleteServerMigrationRequest) => (sent.push(['force', req]), { migration: mig }),
        },
      },
    });
    expect(await cli.run('server', 'migration', 'abort', 'web', 'm1', '-f', 'json')).toBe(0);
    expect(JSON.parse(cli.out.stdout)).toMatchObject({ id: 'm1', server_id: 's1', status: 'running' });
    expect(await cli.run('server', 'migration', 'force-complete', 'web', 'm1', '-f', 'json')).toBe(0);
    expect(sent).toEqual([
      ['abort', expect.objectContaining({ serverId: 's1', migrationId: 'm1' })],
      ['force', expect.objectContaining({ serverId: 's1', migrationId: 'm1' })],
    ]);
  });
});
