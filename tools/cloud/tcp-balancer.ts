/**
 * A small layer-4 (TCP) round-robin balancer for the bring-up: one published port in front of N
 * replicas of a stateless HTTP service (the OpenStack REST front), as HAProxy in `mode tcp` sits in
 * front of OpenStack's API services. It forwards bytes only (no HTTP parsing): the Host header a
 * client sends reaches the replica untouched, so the links and Keystone catalog a replica builds
 * name the balancer's address. A keep-alive connection stays on the replica it was given; each new
 * connection goes to the next healthy replica.
 *
 * Health: each backend's `healthUrl` (a replica's `/readyz`) is polled every `healthIntervalMs`;
 * a backend that answers anything but 2xx, or whose port refuses a connection, is skipped until a
 * check passes again. A connection whose backend refuses is retried on the next backend (no byte
 * has been sent yet), so a replica killed between two checks costs no client a failed request.
 */
import net from 'node:net';

/** One replica behind the balancer. */
export interface Backend {
  host: string;
  port: number;
  /** Polled for health (`GET`, 2xx = up); without it a TCP connect is the check. */
  healthUrl?: string;
}

/** What a balancer reports of a backend. */
export interface BackendStatus extends Backend {
  up: boolean;
  /** Connections handed to this backend since start. */
  connections: number;
}

/**
 * The round-robin choice, pure: the next backend after `cursor` that is up and not yet tried for
 * this connection; when no backend is up, the next one not yet tried (health may lag a restart, and
 * a refused connect costs only a retry). Undefined when every backend was tried.
 * @param up health of each backend, by index
 * @param cursor index of the backend chosen last (-1 before the first)
 * @param tried indexes already tried for the connection at hand
 */
export function nextBackend(up: readonly boolean[], cursor: number, tried: ReadonlySet<number>): number | undefined {
  const n = up.length;
  const order = Array.from({ length: n }, (_, k) => (cursor + 1 + k + n) % n).filter((i) => !tried.has(i));
  return order.find((i) => up[i]) ?? order[0];
}

/** A running balancer. */
export interface TcpBalancer {
  /** The port it listens on. */
  readonly port: number;
  /** `<scheme>://<host>:<port>` (scheme `http` unless given: the balancer passes TLS through untouched). */
  readonly url: string;
  /** Health and connection counts of each backend, in the order given. */
  status(): BackendStatus[];
  /** Checks every backend's health now (the periodic check does the same). */
  checkNow(): Promise<void>;
  /** Stops listening, the health checks and every forwarded connection. */
  close(): Promise<void>;
}

/**
 * Starts a balancer on `host`:`port` (0 picks a free port) over `backends`.
 * @param opts.healthIntervalMs time between health checks of each backend (default 1000 ms)
 * @param opts.healthTimeoutMs a check that takes longer fails (default 1000 ms)
 * @param opts.connectTimeoutMs a backend that does not accept a connection within this is tried as refused (default 2000 ms)
 * @throws Error when `backends` is empty, or the port cannot be bound (the listen error)
 */
export async function startTcpBalancer(
  backends: Backend[],
  opts: { host?: string; port?: number; healthIntervalMs?: number; healthTimeoutMs?: number; connectTimeoutMs?: number; scheme?: 'http' | 'https' } = {},
): Promise<TcpBalancer> {
  if (!backends.length) throw new Error('a balancer needs at least one backend');
  const host = opts.host ?? '127.0.0.1';
  const state: BackendStatus[] = backends.map((b) => ({ ...b, up: true, connections: 0 }));
  const open = new Set<net.Socket>();
  let cursor = -1;
  let closed = false;

  const forward = (client: net.Socket) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const tried = new Set<number>();
    const attempt = () => {
      const i = nextBackend(state.map((s) => s.up), cursor, tried);
      if (i === undefined || closed || client.destroyed) return void client.destroy();
      tried.add(i);
      cursor = i;
      const b = state[i];
      const upstream = net.connect({ host: b.host, port: b.port, allowHalfOpen: true });
      upstream.setTimeout(opts.connectTimeoutMs ?? 2000);
      const refused = () => {
        upstream.destroy();
        b.up = false;
        attempt();
      };
      upstream.once('timeout', refused);
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.setTimeout(0);
        upstream.removeListener('timeout', refused);
        upstream.removeListener('error', refused);
        b.connections++;
        open.add(upstream);
        // A replica that closes has its last bytes flushed to the client (end, not destroy); a
        // client that goes away leaves nothing to deliver.
        upstream.on('error', () => upstream.destroy());
        upstream.on('close', (hadError) => {
          open.delete(upstream);
          if (hadError) client.destroy();
          else client.end();
        });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt();
  };

  const check = async (b: BackendStatus) => {
    b.up = b.healthUrl ? await httpOk(b.healthUrl, opts.healthTimeoutMs ?? 1000) : await tcpOpen(b.host, b.port, opts.healthTimeoutMs ?? 1000);
  };
  const checkNow = async () => void (await Promise.all(state.map(check)));
  const timer = setInterval(() => void checkNow(), opts.healthIntervalMs ?? 1000);
  timer.unref();

  // Half-open on both legs: a client that ends its side after the request still gets the response.
  const server = net.createServer({ allowHalfOpen: true }, forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  }).catch((e) => {
    clearInterval(timer);
    throw e;
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `${opts.scheme ?? 'http'}://${host}:${port}`,
    status: () => state.map((s) => ({ ...s })),
    checkNow,
    async close() {
      closed = true;
      clearInterval(timer);
      const stopped = new Promise<void>((r) => server.close(() => r()));
      for (const s of open) s.destroy();
      await stopped;
    },
  };
}

async function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
