import type { FastifyInstance } from 'fastify';
import type { Backends } from '../backends';

/** One gRPC call the REST layer made, as fake backends record it: method, request and call options. */
export type RecordedCall = { method: string; req: unknown; opts: { token?: string; requestId?: string } };

/**
 * Fake gRPC clients for HTTP specs: every method of every service records its call in `calls` and
 * answers with `impl[method]` (an unexpected method throws).
 */
export function fakeBackends(calls: RecordedCall[], impl: Record<string, (req: never, opts: RecordedCall['opts']) => unknown>): Backends {
  const client = new Proxy({} as Record<string, unknown>, {
    get: (_t, method: string) => async (req: never, opts: RecordedCall['opts'] = {}) => {
      calls.push({ method, req, opts });
      const f = impl[method];
      if (!f) throw new Error(`unexpected call ${method}`);
      return f(req, opts);
    },
  });
  return { identity: client, compute: client, image: client, network: client } as unknown as Backends;
}

/** A response as the specs read it. */
export interface TestResponse {
  statusCode: number;
  headers: Record<string, string>;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * One request over a real socket to a listening `app` (fastify's own inject needs an ESM-only
 * dependency jest cannot load here on Node 20). An object payload is sent as JSON.
 */
export async function httpRequest(app: FastifyInstance, opts: { method?: string; url: string; headers?: Record<string, string>; payload?: unknown }): Promise<TestResponse> {
  const address = app.server.address() as { port: number };
  const body = opts.payload === undefined ? undefined : typeof opts.payload === 'string' ? opts.payload : JSON.stringify(opts.payload);
  const headers = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  const res = await fetch(`http://127.0.0.1:${address.port}${opts.url}`, { method: opts.method ?? 'GET', headers, body });
  const text = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), text, json: () => JSON.parse(text) };
}
