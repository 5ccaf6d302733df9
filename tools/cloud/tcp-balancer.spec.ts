import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nextBackend, startTcpBalancer, type TcpBalancer } from './tcp-balancer';

describe('nextBackend (round-robin over healthy backends)', () => {
  it.each([
    { up: [true, true, true], cursor: -1, tried: [], next: 0 },
    { up: [true, true, true], cursor: 0, tried: [], next: 1 },
    { up: [true, true, true], cursor: 2, tried: [], next: 0 },
    { up: [true, false, true], cursor: 0, tried: [], next: 2 },
    { up: [false, true, false], cursor: 1, tried: [], next: 1 },
    { up: [true, true, true], cursor: 0, tried: [1], next: 2 },
    { up: [true, true], cursor: 0, tried: [0, 1], next: undefined },
    // none up: still the next untried one (health may lag a replica that came back)
    { up: [false, false], cursor: 0, tried: [], next: 1 },
    { up: [false, false], cursor: 0, tried: [1], next: 0 },
  ])('up=$up after $cursor, tried $tried -> $next', ({ up, cursor, tried, next }) => {
    expect(nextBackend(up, cursor, new Set(tried))).toBe(next);
  });
});

/** An HTTP server on a free port answering `GET /readyz` with `ready()` and anything else with its name. */
async function replica(name: string, ready = () => true) {
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') return void res.writeHead(ready() ? 200 : 503).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name} ${req.headers.host}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    backend: { host: '127.0.0.1', port, healthUrl: `http://127.0.0.1:${port}/readyz` },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** One request on a new connection (no keep-alive pool: each request is balanced afresh). */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('startTcpBalancer', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function setUp(readyB = () => true) {
    const a = await replica('a');
    const b = await replica('b', readyB);
    closers.push(a.close, b.close);
    const lb: TcpBalancer = await startTcpBalancer([a.backend, b.backend], { healthIntervalMs: 60_000 });
    closers.push(() => lb.close());
    return { a, b, lb };
  }

  it('spreads new connections over the replicas in turn, the Host header passed through untouched', async () => {
    const { lb } = await setUp();
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push(await get(`${lb.url}/x`));
    const host = new URL(lb.url).host;
    expect(bodies).toEqual([`a ${host}`, `b ${host}`, `a ${host}`, `b ${host}`]);
    expect(lb.status().map((s) => s.connections)).toEqual([2, 2]);
  });

  it('keeps a keep-alive connection on the replica it was given', async () => {
    const { lb } = await setUp();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const once = () =>
      new Promise<string>((resolve, reject) => {
        http.get(`${lb.url}/x`, { agent }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d)).on('end', () => resolve(body));
        }).on('error', reject);
      });
    const names = [await once(), await once(), await once()].map((b) => b.split(' ')[0]);
    agent.destroy();
    expect(new Set(names).size).toBe(1);
  });

  it('skips a replica that is not ready, and takes it back once its check passes', async () => {
    let bReady = false;
    const { lb } = await setUp(() => bReady);
    await lb.checkNow();
    expect(lb.status().map((s) => s.up)).toEqual([true, false]);
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await get(`${lb.url}/`)).split(' ')[0]);
    expect(names).toEqual(['a', 'a', 'a']);
    bReady = true;
    await lb.checkNow();
    const after = [];
    for (let i = 0; i < 2; i++) after.push((await get(`${lb.url}/`)).split(' ')[0]);
    expect(after.sort()).toEqual(['a', 'b']);
  });

  it('a replica killed between checks costs no request: a refused connect goes to the next one', async () => {
    const { a, lb } = await setUp();
    await a.close();
    const names = [];
    for (let i = 0; i < 4; i++) names.push((await get(`${lb.url}/`)).split(' ')[0]);
    expect(names).toEqual(['b', 'b', 'b', 'b']);
    expect(lb.status().map((s) => s.up)).toEqual([false, true]);
  });

  it('refuses the client (closes the connection) when no replica answers', async () => {
    const { a, b, lb } = await setUp();
    await a.close();
    await b.close();
    await expect(get(`${lb.url}/`)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('needs at least one backend', async () => {
    await expect(startTcpBalancer([])).rejects.toThrow(/at least one backend/);
  });
});
