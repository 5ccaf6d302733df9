import { createServer, type Server } from 'node:http';
import type { Runnable } from '@minicloud/platform-lifecycle';
import { serveMetadata, type MetadataServiceDeps } from './metadata-service';

/**
 * The metadata API's HTTP listener (Nova's nova-api-metadata, port 8775 there): every request goes
 * to serveMetadata. Runs until aborted; `onListening` gets the bound address (port 0 picks one).
 */
export function metadataServer(d: MetadataServiceDeps, o: { host: string; port: number; onListening?: (url: string) => void }): Runnable {
  return {
    name: 'metadata-api',
    async start(signal) {
      const server: Server = createServer((req, res) => {
        serveMetadata(d, req.method ?? 'GET', req.url ?? '/', req.headers)
          .then((a) => {
            res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body) });
            res.end(req.method === 'HEAD' ? undefined : a.body);
          })
          .catch((e: unknown) => {
            d.logger.warn({ err: e instanceof Error ? e.message : String(e), path: req.url }, 'metadata request failed');
            res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8' });
            res.end('An unknown error has occurred. Please try your request again.');
          });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, o.host, () => resolve());
      });
      const addr = server.address();
      if (addr && typeof addr === 'object') o.onListening?.(`http://${o.host}:${addr.port}`);
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
