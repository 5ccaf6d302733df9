import { compute } from '@minicloud/proto';
import { UnavailableError } from '@minicloud/domain-errors';
import { catalogEntry, loggedInCli } from './testing/fake-cli';

/** A CLI whose catalog lists two compute replicas; calls for which `dead(method, address)` fail with UNAVAILABLE `failure`. */
async function twoReplicas(dead: (method: string, address: string) => boolean, failure: string) {
  const calls: string[] = [];
  const replica = (address: string) => {
    const call = (name: string, answer: unknown) => async () => {
      calls.push(`${name}@${address}`);
      if (dead(name, address)) throw new UnavailableError(failure);
      return answer;
    };
    return {
      listHosts: call('listHosts', { hosts: [compute.Host.fromPartial({ id: 'h1', state: compute.HostState.HOST_STATE_UP, enabled: true })] }),
      serverAction: call('serverAction', { server: compute.Server.fromPartial({ id: 's1' }) }),
      getServer: call('getServer', { server: compute.Server.fromPartial({ id: 's1', name: 's1', hostId: 'h1' }) }),
      listServers: call('listServers', { servers: [] }),
    };
  };
  const cli = await loggedInCli({
    dirPrefix: 'mc-cli-failover-',
    services: (type, address) => (type === 'identity' ? {} : replica(address)),
    catalog: [catalogEntry('compute', '10.0.0.2:5004'), catalogEntry('compute', '10.0.0.1:5004')],
  });
  return { out: cli.out, calls, run: cli.run };
}

describe('CLI failover across the catalog endpoints of a service (controller replicas)', () => {
  it('moves to the next endpoint when the first one accepts no connection, for any call', async () => {
    const first = (_m: string, a: string) => a === '10.0.0.2:5004';
    const c = await twoReplicas(first, 'No connection established. Last error: connect ECONNREFUSED 10.0.0.2:5004');
    expect(await c.run('host', 'list', '-f', 'json')).toBe(0);
    expect(JSON.parse(c.out.stdout)[0].id).toBe('h1');
    const w = await twoReplicas((m, a) => m === 'serverAction' && first(m, a), 'No connection established. Last error: connect ECONNREFUSED 10.0.0.2:5004');
    expect(await w.run('server', 'evacuate', 's1')).toBe(0);
    expect(w.calls.filter((x) => x.startsWith('serverAction'))).toEqual(['serverAction@10.0.0.2:5004', 'serverAction@10.0.0.1:5004']);
  });

  it('retries a read elsewhere after a dropped connection, but never a write that may have reached the dead replica', async () => {
    const c = await twoReplicas((_m, a) => a === '10.0.0.2:5004', 'Connection dropped');
    expect(await c.run('host', 'list')).toBe(0);
    expect(c.calls.filter((x) => x.startsWith('listHosts'))).toEqual(['listHosts@10.0.0.2:5004', 'listHosts@10.0.0.1:5004']);
    const w = await twoReplicas((m, a) => m === 'serverAction' && a === '10.0.0.2:5004', 'Connection dropped');
    expect(await w.run('server', 'evacuate', 's1')).toBe(1);
    expect(w.calls.filter((x) => x.startsWith('serverAction'))).toEqual(['serverAction@10.0.0.2:5004']);
    expect(w.out.stderr).toMatch(/cannot reach compute service at 10.0.0.2:5004 \(UNAVAILABLE\)/);
  });
});
