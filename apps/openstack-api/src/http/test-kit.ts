import type { FastifyInstance } from 'fastify';
import { UnauthenticatedError } from '@minicloud/domain-errors';
import { silentLogger } from '@minicloud/platform-logging';
import type { Backends } from '../backends';
import { catalogSeed } from '../identity/catalog';
import { buildServer } from '../server';

/** One gRPC call the REST layer made, as fake backends record it: method, request and call options. */
export type RecordedCall = { method: string; req: unknown; opts: { token?: string; requestId?: string } };

/**
 * Fake gRPC clients for HTTP specs: every method of every service records its call in `calls` and
 * answers with `impl[method]` (an unexpected method throws). Identity's Keystone catalog, unless
 * `impl` answers it, is the one a fresh cloud's front seeds in RegionOne.
 */
export function fakeBackends(calls: RecordedCall[], impl: Record<string, (req: never, opts: RecordedCall['opts']) => unknown>): Backends {
  const client = new Proxy({} as Record<string, unknown>, {
    // a server-streaming method's result (an async iterable) is returned as it is, as the real client does
    get: (_t, method: string) => (req: never, opts: RecordedCall['opts'] = {}) => {
      calls.push({ method, req, opts });
      const f = impl[method] ?? (method === 'listServiceCatalog' ? () => catalogSeed('RegionOne') : undefined);
      if (!f) return Promise.reject(new Error(`unexpected call ${method}`));
      try {
        const r = f(req, opts);
        return r && typeof r === 'object' && Symbol.asyncIterator in r ? r : Promise.resolve(r);
      } catch (e) {
        return Promise.reject(e);
      }
    },
  });
  return { identity: client, compute: client, image: client, network: client, volume: client } as unknown as Backends;
}

/** A response as the specs read it. */
export interface TestResponse {
  statusCode: number;
  headers: Record<string, string>;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The body's bytes. */
  raw: Buffer;
}

/**
 * One request over a real socket to a listening `app` (fastify's own inject needs an ESM-only
 * dependency jest cannot load here on Node 20). An object payload is sent as JSON; a string or Buffer as it is.
 */
export async function httpRequest(app: FastifyInstance, opts: { method?: string; url: string; headers?: Record<string, string>; payload?: unknown }): Promise<TestResponse> {
  const address = app.server.address() as { port: number };
  const p = opts.payload;
  const body = p === undefined ? undefined : typeof p === 'string' || Buffer.isBuffer(p) ? p : JSON.stringify(p);
  const headers = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  const res = await fetch(`http://127.0.0.1:${address.port}${opts.url}`, { method: opts.method ?? 'GET', headers, body });
  const raw = Buffer.from(await res.arrayBuffer());
  const text = raw.toString();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), text, json: () => JSON.parse(text), raw };
}

/**
 * The caller a fake service sees: `tokens[opts.token]`, or UnauthenticatedError as the real
 * services answer a call without a valid token.
 */
export function fakeCaller<T>(tokens: Record<string, T>): (opts: RecordedCall['opts']) => T {
  return (opts) => {
    const c = tokens[opts.token ?? ''];
    if (c === undefined) throw new UnauthenticatedError('a token is required');
    return c;
  };
}

/** A request as the holder of `token` ('' sends none). */
export function requestAs(app: FastifyInstance, opts: Parameters<typeof httpRequest>[1], token: string): Promise<TestResponse> {
  return httpRequest(app, { ...opts, headers: { ...(token ? { 'x-auth-token': token } : {}), ...opts.headers } });
}

/** The whole REST front over `backends`, listening on a free port of 127.0.0.1 (base URL http://api.test:5080). */
export async function listenFront(backends: Backends): Promise<FastifyInstance> {
  const app = await buildServer({ backends, region: 'RegionOne', publicUrl: 'http://api.test:5080', logger: silentLogger() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}
