import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on 127.0.0.1 by binding port 0 and closing the listener.
 * Another process may take the port before it is used; callers retry on EADDRINUSE if it matters.
 * @returns a port number in the ephemeral range
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('findFreePort: no port assigned'))));
    });
  });
}
