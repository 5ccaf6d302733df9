import { compute } from '@minicloud/proto';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import { loggedInCli } from '../testing/fake-cli';

const srv = (id: string, hostId: string, vmState = compute.VmState.VM_STATE_ACTIVE) => compute.Server.fromPartial({ id, name: id, hostId, vmState, status: 'ACTIVE' });

/** In-process CLI against a fake compute service where servers move off `h1` once evacuated. */
async function cloud(refuse: Set<string> = new Set()) {
  const servers = new Map([['s1', srv('s1', 'h1')], ['s2', srv('s2', 'h1')], ['s3', srv('s3', 'h2')]]);
  const actions: compute.ServerActionRequest[] = [];
  const fakes = {
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
  const cli = await loggedInCli({ dirPrefix: 'mc-cli-evac-', services: fakes });
  return { out: cli.out, actions, run: cli.run };
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
