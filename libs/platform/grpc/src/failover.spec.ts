import { NotFoundError, UnavailableError } from '@minicloud/domain-errors';
import { failoverClient, neverConnected, safeToFailOver } from './failover';

const REFUSED = 'No connection established. Last error: connect ECONNREFUSED 10.0.0.2:5004';

/** Replicas whose `fail(method, address)` answer (an error, or undefined for success) drives each call. */
function replicas(addresses: string[], fail: (method: string, address: string) => Error | undefined, opts: { retryable?: (m: string, e: unknown) => boolean } = {}) {
  const calls: string[] = [];
  const closed: string[] = [];
  const connected: string[] = [];
  const client = failoverClient({
    endpoints: () => addresses,
    connect: (address) => {
      connected.push(address);
      const call = (method: string) => async () => {
        calls.push(`${method}@${address}`);
        const e = fail(method, address);
        if (e) throw e;
        return address;
      };
      return { getServer: call('getServer'), createServer: call('createServer'), close: () => closed.push(address), watch: async function* () { yield address; } };
    },
    retryable: opts.retryable,
    streams: ['watch'],
  });
  return { client, calls, closed, connected };
}

describe('failoverClient', () => {
  it('walks the endpoints in order on a refused connection, for reads and writes alike, then sticks to the one that answered', async () => {
    const r = replicas(['a', 'b', 'c'], (_m, addr) => (addr === 'c' ? undefined : new UnavailableError(REFUSED)));
    expect(await r.client.createServer()).toBe('c');
    expect(await r.client.getServer()).toBe('c');
    expect(r.calls).toEqual(['createServer@a', 'createServer@b', 'createServer@c', 'getServer@c']);
    expect(r.connected).toEqual(['a', 'b', 'c']);
  });

  it('retries a read after a dropped connection, but never a write that may have reached the replica', async () => {
    const r = replicas(['a', 'b'], (_m, addr) => (addr === 'a' ? new UnavailableError('Connection dropped') : undefined));
    expect(await r.client.getServer()).toBe('b');
    const w = replicas(['a', 'b'], (_m, addr) => (addr === 'a' ? new UnavailableError('Connection dropped') : undefined));
    await expect(w.client.createServer()).rejects.toThrow('Connection dropped');
    expect(w.calls).toEqual(['createServer@a']);
  });

  it('does not fail over errors other than UNAVAILABLE', async () => {
    const r = replicas(['a', 'b'], (_m, addr) => (addr === 'a' ? new NotFoundError('server', 's1') : undefined));
    await expect(r.client.getServer()).rejects.toBeInstanceOf(NotFoundError);
    expect(r.calls).toEqual(['getServer@a']);
  });

  it('throws the first endpoint\'s error when every endpoint fails, each tried once', async () => {
    const r = replicas(['a', 'b'], (_m, addr) => new UnavailableError(`${REFUSED} at ${addr}`));
    await expect(r.client.getServer()).rejects.toThrow(/at a$/);
    expect(r.calls).toEqual(['getServer@a', 'getServer@b']);
  });

  it('takes the failover rule from `retryable`', async () => {
    const r = replicas(['a', 'b'], (_m, addr) => (addr === 'a' ? new UnavailableError('Connection dropped') : undefined), { retryable: (_m, e) => e instanceof UnavailableError });
    expect(await r.client.createServer()).toBe('b');
  });

  it('sends a stream to the preferred endpoint without failover, and closes every client', async () => {
    const r = replicas(['a', 'b'], (_m, addr) => (addr === 'a' ? new UnavailableError(REFUSED) : undefined));
    await r.client.getServer();
    const got: unknown[] = [];
    for await (const x of (r.client as unknown as { watch(): AsyncIterable<string> }).watch()) got.push(x);
    expect(got).toEqual(['b']);
    r.client.close();
    expect(r.closed.sort()).toEqual(['a', 'b']);
  });

  it('reports an empty endpoint list as UNAVAILABLE', async () => {
    await expect(replicas([], () => undefined).client.getServer()).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('safeToFailOver', () => {
  it('allows any method when no connection was made, reads only after one was', () => {
    expect(neverConnected(new UnavailableError(REFUSED))).toBe(true);
    expect(safeToFailOver('deleteServer', new UnavailableError(REFUSED))).toBe(true);
    expect(safeToFailOver('deleteServer', new UnavailableError('Connection dropped'))).toBe(false);
    expect(safeToFailOver('listServers', new UnavailableError('Connection dropped'))).toBe(true);
    expect(safeToFailOver('listServers', new Error('ECONNREFUSED'))).toBe(false);
  });
});
