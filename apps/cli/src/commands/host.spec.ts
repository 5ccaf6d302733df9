import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compute } from '@minicloud/proto';
import type { CliIo, ConnectFn } from '../io';
import { main } from '../main';

/** In-process CLI run against fake clients (logged in first). */
async function loggedIn(updateHost: (req: compute.UpdateHostRequest) => unknown) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cli-host-'));
  const out = { stdout: '', stderr: '' };
  const requests: compute.UpdateHostRequest[] = [];
  const fakes: Record<string, Record<string, (req: never) => unknown>> = {
    identity: {
      authenticate: () => ({
        token: 'tok',
        info: { userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', roles: ['admin'], expiresAt: new Date('2030-01-01T01:00:00Z') },
        catalog: [{ serviceType: 'compute', url: '10.0.0.1:5004', interface: 'public', region: 'r1' }],
      }),
    },
    compute: {
      updateHost: (req: never) => {
        requests.push(req);
        return updateHost(req);
      },
    },
  };
  const connect = ((type: string) => {
    const client: Record<string, unknown> = { close: () => undefined };
    for (const [name, fn] of Object.entries(fakes[type] ?? {})) client[name] = async (req: never) => fn(req);
    return client;
  }) as unknown as ConnectFn;
  const io: CliIo = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: { MINICLOUD_CONFIG_DIR: dir, MINICLOUD_URL: '10.0.0.1:5000', MINICLOUD_USER: 'admin', MINICLOUD_PASSWORD: 'admin', MINICLOUD_PROJECT: 'admin' },
    connect,
    now: () => Date.parse('2030-01-01T00:00:00Z'),
    sleep: async () => undefined,
  };
  expect(await main(['login'], io)).toBe(0);
  out.stdout = '';
  return { out, requests, run: (...argv: string[]) => main(argv, io) };
}

const host = (state: compute.HostState, enabled: boolean) => ({ host: compute.Host.fromPartial({ id: 'h1', state, enabled, epoch: 2 }) });

describe('minicloud host disable/enable/maintenance', () => {
  it('disable sends enabled=false with the reason and shows the host', async () => {
    const h = await loggedIn(() => host(compute.HostState.HOST_STATE_UP, false));
    expect(await h.run('host', 'disable', 'h1', '--reason', 'bad fan', '-f', 'json')).toBe(0);
    expect(h.requests[0]).toMatchObject({ hostId: 'h1', enabled: false, disabledReason: 'bad fan' });
    expect(h.requests[0].maintenance).toBeUndefined();
    expect(JSON.parse(h.out.stdout)).toMatchObject({ id: 'h1', enabled: false });
  });

  it('enable sends enabled=true only', async () => {
    const h = await loggedIn(() => host(compute.HostState.HOST_STATE_UP, true));
    expect(await h.run('host', 'enable', 'h1')).toBe(0);
    expect(h.requests[0]).toMatchObject({ hostId: 'h1', enabled: true });
    expect(h.requests[0].maintenance).toBeUndefined();
  });

  it('maintenance enters (and --off leaves) maintenance; the state is shown by name', async () => {
    const h = await loggedIn((req) => host(req.maintenance ? compute.HostState.HOST_STATE_MAINTENANCE : compute.HostState.HOST_STATE_UP, !req.maintenance));
    expect(await h.run('host', 'maintenance', 'h1', '-f', 'json')).toBe(0);
    expect(JSON.parse(h.out.stdout).state).toBe('maintenance');
    expect(await h.run('host', 'maintenance', 'h1', '--off')).toBe(0);
    expect(h.requests.map((r) => r.maintenance)).toEqual([true, false]);
  });
});
