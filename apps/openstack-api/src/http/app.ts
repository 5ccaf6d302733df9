import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '@minicloud/platform-logging';
import { Counter, Histogram, type Registry } from '@minicloud/platform-metrics';
import { apiOf } from './context';
import { errorBody, httpStatusOf, HttpError, publicMessage, type ApiName } from './errors';
import { validationError } from './validation';

/** The HTTP metrics of the REST front (per API, route pattern, method and status). */
export interface ApiMetrics {
  requests: Counter<'api' | 'route' | 'method' | 'status'>;
  seconds: Histogram<'api' | 'route' | 'method'>;
}

/** Registers `minicloud_openstack_api_requests_total` and `minicloud_openstack_api_request_seconds` on `registry`. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    requests: new Counter({
      name: 'minicloud_openstack_api_requests_total',
      help: 'OpenStack REST requests answered, by API, route pattern, method and HTTP status.',
      labelNames: ['api', 'route', 'method', 'status'] as const,
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'minicloud_openstack_api_request_seconds',
      help: 'Latency of OpenStack REST requests, by API, route pattern and method.',
      labelNames: ['api', 'route', 'method'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/**
 * The fastify instance every API mounts on: request ids (`req-<uuid>`, sent back as
 * `x-openstack-request-id` and passed to gRPC), JSON bodies checked by each route's JSON schema
 * without type coercion (a number where a string belongs is a 400 naming the field), one error
 * handler that writes each API's error body with the status from {@link httpStatusOf}, a 404 in the
 * API's form for unknown paths, request logs and metrics.
 * @param keystoneUrl the identity endpoint put in `WWW-Authenticate` on 401s (keystonemiddleware does)
 * @param https PEM certificate chain and key: serve HTTPS (Node's TLS defaults: TLS 1.2 and 1.3) instead of HTTP
 */
export function createApp(opts: { logger: Logger; metrics?: ApiMetrics; keystoneUrl?: (req: FastifyRequest) => string; bodyLimitBytes?: number; https?: { cert: Buffer; key: Buffer } }): FastifyInstance {
  // Fastify types an HTTPS instance apart from an HTTP one; routes and hooks are the same for both.
  const app = (Fastify as (o: object) => FastifyInstance)({
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    loggerInstance: opts.logger as FastifyBaseLogger,
    // one request log line of our own (onResponse), with the request id under our log key
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: () => `req-${randomUUID()}`,
    requestIdHeader: false,
    bodyLimit: opts.bodyLimitBytes ?? 1 << 20,
    // Path prefixes are matched as written; a trailing slash is the same resource (Nova, Neutron).
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true } },
  });

  // OpenStack clients send Content-Type: application/json on every request, DELETE and action-less
  // POSTs included: an empty body is no body (a route with a body schema still refuses it, 400).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
    if (apiOf(req.url) === 'compute') reply.header('x-compute-request-id', req.id);
  });

  app.addHook('onResponse', async (req, reply) => {
    const api = apiOf(req.url);
    const route = req.routeOptions.url ?? 'unmatched';
    opts.metrics?.requests.inc({ api, route, method: req.method, status: String(reply.statusCode) });
    opts.metrics?.seconds.observe({ api, route, method: req.method }, reply.elapsedTime / 1000);
    req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const api = apiOf(req.url);
    const known = err.validation ? validationError(err.validation, err.validationContext ?? 'body') : fastifyError(err);
    const e = known ?? err;
    const status = httpStatusOf(e, api);
    if (status >= 500) req.log.error({ err }, 'request failed');
    sendError(reply, api, status, publicMessage(e, status), e, opts.keystoneUrl?.(req));
  });

  app.setNotFoundHandler((req, reply) => {
    const api = apiOf(req.url);
    sendError(reply, api, 404, 'The resource could not be found.', new HttpError(404, 'not found', 'HTTPNotFound'));
  });
  return app;
}

/**
 * The JSON body parser of every JSON media type (application/json, Glance's JSON-patch type): an
 * empty body is no body; malformed JSON is a 400 HttpError.
 */
export function parseJsonBody(_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  if (body === '' || body.length === 0) return done(null, undefined);
  try {
    done(null, JSON.parse(body.toString()));
  } catch (e) {
    done(new HttpError(400, `Malformed request body: ${(e as Error).message}`, 'HTTPBadRequest'), undefined);
  }
}

/** Writes an error in `api`'s form; a 401 also says where to authenticate (WWW-Authenticate). */
export function sendError(reply: FastifyReply, api: ApiName, status: number, message: string, err?: unknown, keystoneUrl?: string): FastifyReply {
  if (status === 401 && keystoneUrl) reply.header('www-authenticate', `Keystone uri="${keystoneUrl}"`);
  return reply.code(status).type('application/json').send(errorBody(api, status, message, err));
}

/**
 * Fastify's own request errors (malformed JSON, empty JSON body, unsupported content type, body too
 * large) as HttpErrors with their 4xx status, so they never surface as 500.
 */
function fastifyError(err: FastifyError): HttpError | undefined {
  const status = err.statusCode;
  if (err instanceof HttpError || !status || status >= 500) return undefined;
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return new HttpError(400, `Malformed request body: ${err.message}`, 'HTTPBadRequest');
  return new HttpError(status, err.message, status === 415 ? 'HTTPUnsupportedMediaType' : 'HTTPBadRequest');
}
