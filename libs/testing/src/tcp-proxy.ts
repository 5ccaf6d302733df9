import net from 'node:net';

/** A TCP proxy on 127.0.0.1 that a test can cut and restore (a network partition of one client). */
export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** `nats://127.0.0.1:<port>` / `redis://...`-style URL with the given scheme. */
  url(scheme: string): string;
  /** Drops every open connection and refuses (accepts then closes at once) new ones until restored. */
  cut(): void;
  /** Forwards new connections again. */
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy to 127.0.0.1:`targetPort` on a free port (or `port`). Used to cut a single
 * process's link to a server (e.g. only one agent's NATS) while the server and everyone else keep
 * working.
 */
export async function startTcpProxy(targetPort: number, opts: { port?: number } = {}): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
