import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compute } from '@minicloud/proto';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { CliIo, ConnectFn } from '../io';
import { main } from '../main';

const srv = (id: string, hostId: string, vmState = compute.VmState.VM_STATE_ACTIVE) => compute.Server.fromPartial({ id, name: id, hostId, vmState, status: 'ACTIVE' });

/** In-process CLI against a fake compute service where servers move off `h1` once evacuated. */
async function cloud(refuse: Set<string> = new Set()) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cli-evac-'));
  const out = { stdout: '', stderr: '' };
  const servers = new Map([['s1', srv('s1', 'h1')], ['s2', srv('s2', 'h1')], ['s3', srv('s3', 'h2')]]);
  const actions: compute.ServerActionRequest[] = [];
  const fakes: Record<string, Record<string, (req: never) => unknown>> = {
    identity: {
      authenticate: () => ({
        token: 'tok',
        info: { userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', roles: ['admin'], expiresAt: new Date('2030-01-01T01:00:00Z') },
        catalog: [{ serviceType: 'compute', url: '10.0.0.1:5004', interface: 'public', region: 'r1' }],
      }),
    },
    compute: {
      getServer: (req: compute.GetServerRequest) => ({ server: servers.get(req.serverId) }),
      listServers: (req: compute.ListServersRequest) => ({ servers: [...servers.values()].filter((s) => !req.hostId || s.hostId === req.hostId) }),
      serverAction: (req: compute.ServerActionRequest) => {
        actions.push(req);
        if (refuse.has(req.serverId)) throw new FailedPreconditionError('Compute service of h1 is still in use (host state up).', 'host_in_use');
        const s = servers.get(req.serverId)!;
        servers.set(s.id, { ...s, hostId: req.evacuate?.hostId || 'h3' });
        return { server: s };
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
  return { out, actions, run: (...argv: string[]) => main(argv, io) };
}

describe('minicloud server evacuate / host evacuate', () => {
  it('server evacuate --host sends ServerAction evacuate with the target and --wait shows the new host', async () => {
    const c = await cloud();
    expect(await c.run('server', 'evacuate', 's1', '--host', 'h9', '--wait', '-f', 'json')).toBe(0);
    expect(c.actions).toEqual([expect.objectContaining({ serverId: 's1', evacuate: { hostId: 'h9' } })]);
    expect(JSON.parse(c.out.stdout)).toMatchObject({ server_id: 's1', from_host: 'h1', host: 'h9', result: 'accepted' });
  });

  it('server evacuate prints the refusal as one error line (exit 1)', async () => {
    const c = await cloud(new Set(['s1']));
    expect(await c.run('server', 'evacuate', 's1')).toBe(1);
    expect(c.out.stderr).toMatch(/Compute service of h1 is still in use/);
  });

  it('host evacuate evacuates every server of the host, one row each', async () => {
    const c = await cloud();
    expect(await c.run('host', 'evacuate', 'h1', '--wait', '-f', 'json')).toBe(0);
    expect(c.actions.map((a) => a.serverId).sort()).toEqual(['s1', 's2']);
    expect(JSON.parse(c.out.stdout).map((r: { server_id: string; host: string }) => [r.server_id, r.host])).toEqual([['s1', 'h3'], ['s2', 'h3']]);
  });

  it('host evacuate reports refused servers and exits 1', async () => {
    const c = await cloud(new Set(['s2']));
    expect(await c.run('host', 'evacuate', 'h1', '-f', 'json')).toBe(1);
    expect(c.out.stderr).toMatch(/1 of 2 server\(s\) of h1 not evacuated/);
  });
});
