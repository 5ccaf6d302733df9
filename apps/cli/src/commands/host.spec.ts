import { compute } from '@minicloud/proto';
import { loggedInCli } from '../testing/fake-cli';

/** In-process CLI run against fake clients (logged in first). */
async function loggedIn(updateHost: (req: compute.UpdateHostRequest) => unknown) {
  const requests: compute.UpdateHostRequest[] = [];
  const fakes = {
    compute: {
      updateHost: (req: never) => {
        requests.push(req);
        return updateHost(req);
      },
    },
  };
  const cli = await loggedInCli({ dirPrefix: 'mc-cli-host-', services: fakes });
  return { out: cli.out, requests, run: cli.run };
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
