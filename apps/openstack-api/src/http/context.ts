import type { FastifyRequest } from 'fastify';
import type { CallContext } from '../backends';
import type { ApiName } from './errors';

/** The caller's token (X-Auth-Token, Keystone's header for every API), passed on to gRPC untouched. */
export function authToken(req: FastifyRequest): string | undefined {
  const t = req.headers['x-auth-token'];
  return (Array.isArray(t) ? t[0] : t) || undefined;
}

/** What every gRPC call of this request carries: the caller's token and the request id (`req-<uuid>`). */
export function callContext(req: FastifyRequest): CallContext {
  return { token: authToken(req), requestId: String(req.id) };
}

/** Which API a path belongs to, by devstack's prefixes (errors and metrics are per API). */
export function apiOf(url: string): ApiName {
  if (url.startsWith('/compute')) return 'compute';
  if (url.startsWith('/image')) return 'image';
  if (url.startsWith('/network')) return 'network';
  if (url.startsWith('/volume')) return 'volume';
  return 'identity';
}

/**
 * The public base URL of this front as the caller reached it (scheme://host[:port]), from the Host
 * header, unless a fixed one is configured; links and the catalog are built on it.
 */
export function baseUrl(req: FastifyRequest, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

/** A query parameter's single value (the last one when repeated), or undefined. */
export function queryValue(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}
