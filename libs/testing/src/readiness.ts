import { connect, type Socket } from 'node:net';

/** Result of one readiness probe: true when the server answered as expected. */
export type Probe = (host: string, port: number) => Promise<boolean>;

/**
 * Opens a TCP connection to `host`:`port`, optionally writes `request`, and resolves true once
 * the bytes received satisfy `accept`; false on refusal, close, or after `timeoutMs` (real ms).
 */
function tcpExchange(host: string, port: number, request: string | undefined, accept: (text: string) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const socket: Socket = connect({ host, port });
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => request !== undefined && socket.write(request));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (accept(received)) finish(true);
      else if (received.includes('\r\n') && request !== undefined) finish(false); // e.g. "-LOADING ..."
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/**
 * Redis is ready when an inline PING gets "+PONG", or "-NOAUTH" from a server that requires
 * authentication (not "-LOADING" while the AOF replays).
 */
export const probeRedis: Probe = (host, port) => tcpExchange(host, port, 'PING\r\n', (text) => text.startsWith('+PONG') || text.startsWith('-NOAUTH'), 1000);

/**
 * NATS is ready when it sends its "INFO {...}" banner with `"jetstream":true` (the server enables
 * JetStream before it accepts clients, so the banner means the JetStream API answers too).
 */
export const probeNats: Probe = (host, port) =>
  tcpExchange(host, port, undefined, (text) => text.startsWith('INFO ') && text.includes('"jetstream":true'), 1000);
