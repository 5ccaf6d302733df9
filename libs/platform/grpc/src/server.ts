import { randomUUID } from 'node:crypto';
import {
  Server,
  status,
  type Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { messageTypesByPath } from '@minicloud/proto';
import { PermissionDeniedError, UnauthenticatedError, isMinicloudError } from '@minicloud/domain-errors';
import { authorize, ruleForMethod, type AuthContext, type PolicyRule, type TokenVerifier } from '@minicloud/platform-auth';
import { REQUEST_ID_HEADER, runWithRequestId, type Logger } from '@minicloud/platform-logging';
import type { Counter, GrpcServerMetrics } from '@minicloud/platform-metrics';
import { statusName, toServiceError } from './status-mapping';
import { grpcTlsFromEnv, serverCredentialsOf, type GrpcTls } from './tls';
import type { CallContext, MethodDefinition, ServiceDefinition, ServiceHandlers } from './types';

/**
 * One service to serve: its generated definition and handlers. Who may call what is not given here:
 * it is the shared policy table of @minicloud/platform-auth (`POLICY_TABLE`, by method path).
 */
export interface ServiceRegistration<D extends ServiceDefinition = ServiceDefinition> {
  definition: D;
  handlers: ServiceHandlers<D>;
}

/**
 * Why a call was refused before its handler ran (the `reason` label of
 * minicloud_auth_denied_total): missing_token, malformed_token, unknown_key, invalid_signature,
 * expired, revoked, invalid_token (other verification failures), role_required.
 */
export type DenyReason =
  | 'missing_token'
  | 'malformed_token'
  | 'unknown_key'
  | 'invalid_signature'
  | 'expired'
  | 'revoked'
  | 'invalid_token'
  | 'role_required';

/** A call refused by the interceptor (UNAUTHENTICATED or PERMISSION_DENIED), for audit. */
export interface DeniedCall {
  /** Full gRPC path, e.g. "/minicloud.image.v1.ImageService/DeleteImage". */
  path: string;
  /** Method name as defined (camelCase). */
  method: string;
  reason: DenyReason;
  /** The rule the method needs. */
  rule: PolicyRule;
  /** The verified caller, when the token was valid but lacked the role. */
  auth?: AuthContext;
  requestId: string;
  /** The error's message, e.g. "token revoked" or "deleteImage requires role member". */
  message: string;
}

/** Maps an interceptor's auth error to its {@link DenyReason}. */
export function denyReasonOf(err: unknown): DenyReason {
  if (err instanceof PermissionDeniedError) return 'role_required';
  const m = err instanceof Error ? err.message : '';
  if (/missing bearer token/.test(m)) return 'missing_token';
  if (/malformed|no key id/.test(m)) return 'malformed_token';
  if (/unknown key/.test(m)) return 'unknown_key';
  if (/expired/.test(m)) return 'expired';
  if (/revoked/.test(m)) return 'revoked';
  if (/signature/.test(m)) return 'invalid_signature';
  return 'invalid_token';
}

/** Typed helper so `handlers` is checked against `definition`. */
export function service<D extends ServiceDefinition>(reg: ServiceRegistration<D>): ServiceRegistration {
  return reg as unknown as ServiceRegistration;
}

export interface GrpcServerOptions {
  host?: string;
  /** 0 asks for a free port. */
  port: number;
  services: ServiceRegistration[];
  logger: Logger;
  metrics?: GrpcServerMetrics;
  /** Verifies bearer tokens. Without one, every method is treated as public (internal services). */
  verifier?: TokenVerifier;
  /** Max message size in bytes (image chunks are 1 MiB); default 8 MiB. */
  maxMessageBytes?: number;
  /** minicloud_auth_denied_total{grpc_method, reason}: counts every call the interceptor refuses. */
  deniedCounter?: Counter<'grpc_method' | 'reason'>;
  /** Called for every call the interceptor refuses (runService publishes an audit event). Must not throw. */
  onDenied?: (call: DeniedCall) => void;
  /**
   * TLS (present `tls.cert`; with `requireClientCert`, demand a client certificate signed by
   * `tls.ca`); `null` forces plaintext; default: the environment ({@link grpcTlsFromEnv}).
   */
  tls?: GrpcTls | null;
}

export interface RunningGrpcServer {
  port: number;
  address: string;
  /** Whether the server speaks TLS (clients must then dial it with the CA). */
  tls?: boolean;
  /** Stops accepting new calls and waits for in-flight ones (up to `timeoutMs`, then forces). */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Methods that change nothing: their successful calls are logged at debug, every other call's at
 * info (an access log of changes, as nova-api logs each request), so one request can be followed
 * through the services' logs by its request_id.
 */
const READ_ONLY_METHOD = /^(get|list|download|read|validate|trace)[A-Z]/;

function bearer(md: Metadata): string | undefined {
  const v = md.get('authorization')[0];
  if (typeof v !== 'string') return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(v.trim());
  return m?.[1];
}

async function* readStream<T>(stream: AsyncIterable<unknown>): AsyncIterable<T> {
  for await (const m of stream) yield m as T;
}

/**
 * Starts a gRPC server for the given services. Every call goes through the same pipeline: request id
 * (from `x-request-id` or new), auth (bearer token verified locally, then the method's policy rule),
 * the handler, typed-error -> status mapping ({@link toServiceError}), metrics and one log line per
 * call (successful reads at debug), all carrying the call's request_id. Handlers are `async (req, ctx) => res` (streams as async iterables) and may return
 * partial messages: defaults are filled with the response type's `fromPartial`.
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? 8 * 1024 * 1024,
    'grpc.max_send_message_length': opts.maxMessageBytes ?? 8 * 1024 * 1024,
  });
  for (const reg of opts.services) {
    const impl: UntypedServiceImplementation = {};
    for (const [name, def] of Object.entries(reg.definition)) {
      const handler = (reg.handlers as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
      if (typeof handler !== 'function') {
        throw new Error(`service ${def.path.split('/')[1]} has no handler for ${name}`);
      }
      impl[name] = wrapMethod(name, def, handler, ruleForMethod(def.path), opts) as never;
    }
    server.addService(reg.definition as never, impl);
  }
  const host = opts.host ?? '127.0.0.1';
  const tls = opts.tls === null ? undefined : (opts.tls ?? grpcTlsFromEnv());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port}`, serverCredentialsOf(tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    address: `${host}:${port}`,
    tls: tls !== undefined,
    shutdown: (timeoutMs = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

function wrapMethod(
  name: string,
  def: MethodDefinition,
  handler: (...a: unknown[]) => unknown,
  rule: PolicyRule,
  opts: GrpcServerOptions,
): (...args: never[]) => void {
  const serviceName = def.path.split('/')[1] ?? '';
  // Pre-initialise every method's series at zero, so each process exports its full API surface
  // before the first call (Prometheus' advice against missing series).
  opts.metrics?.handled.inc({ grpc_service: serviceName, grpc_method: name, grpc_code: 'OK' }, 0);
  opts.metrics?.handlingSeconds.zero({ grpc_service: serviceName, grpc_method: name });
  const responseType = messageTypesByPath.get(def.path)?.response;
  const readOnly = READ_ONLY_METHOD.test(name);
  const complete = (res: unknown) => (responseType ? responseType.fromPartial(res ?? {}) : res);

  const begin = async (call: { metadata: Metadata; on(ev: string, fn: () => void): unknown }, requestId: string): Promise<CallContext> => {
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort());
    const ctx: CallContext = {
      method: name,
      requestId,
      logger: opts.logger.child({ grpc_method: name }),
      metadata: call.metadata,
      signal: controller.signal,
    };
    if (!opts.verifier) return ctx;
    try {
      if (rule !== 'public') {
        const token = bearer(call.metadata);
        if (!token) throw new UnauthenticatedError('missing bearer token');
        ctx.auth = await opts.verifier.verify(token);
        ctx.token = token;
      }
      authorize(rule, name, ctx.auth);
    } catch (err) {
      if (err instanceof UnauthenticatedError || err instanceof PermissionDeniedError) {
        const reason = denyReasonOf(err);
        opts.deniedCounter?.inc({ grpc_method: name, reason });
        try {
          opts.onDenied?.({ path: def.path, method: name, reason, rule, auth: ctx.auth, requestId, message: err.message });
        } catch (e) {
          ctx.logger.warn({ err: e }, 'onDenied callback failed');
        }
      }
      throw err;
    }
    return ctx;
  };

  const observe = (startNs: bigint, code: number, err?: unknown, ctx?: CallContext) => {
    const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
    opts.metrics?.handled.inc({ grpc_service: serviceName, grpc_method: name, grpc_code: statusName(code) });
    opts.metrics?.handlingSeconds.observe({ grpc_service: serviceName, grpc_method: name }, seconds);
    const log = ctx?.logger ?? opts.logger.child({ grpc_method: name });
    if (!err) log[readOnly ? 'debug' : 'info']({ grpc_code: 'OK', duration_ms: Math.round(seconds * 1000) }, 'call handled');
    else if (isMinicloudError(err)) log.info({ grpc_code: statusName(code), err: err.message }, 'call failed');
    else log.error({ err }, 'call failed with an unexpected error');
  };

  const fail = (err: unknown, startNs: bigint, ctx?: CallContext) => {
    const se = toServiceError(err);
    observe(startNs, se.code, err, ctx);
    return se;
  };

  /**
   * One call's pipeline, whatever its shape: begin (auth, policy), run, observe, answer or fail; all of
   * it runs as part of the call's request id (log lines carry it, outgoing calls and events pass it on).
   */
  const run = (
    call: { metadata: Metadata; on(ev: string, fn: () => void): unknown },
    invoke: (ctx: CallContext) => Promise<unknown>,
    done: (res: unknown) => void,
    failed: (err: ReturnType<typeof toServiceError>) => void,
  ): void => {
    const start = process.hrtime.bigint();
    let ctx: CallContext | undefined;
    const requestId = (call.metadata.get(REQUEST_ID_HEADER)[0] as string | undefined) || randomUUID();
    runWithRequestId(requestId, () =>
      begin(call, requestId)
        .then((c) => {
          ctx = c;
          return invoke(c);
        })
        .then(
          (res) => {
            observe(start, status.OK, undefined, ctx);
            done(res);
          },
          (err) => failed(fail(err, start, ctx)),
        ),
    );
  };
  const writeAll = async (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, out: AsyncIterable<unknown>) => {
    for await (const msg of out) {
      if (!call.write(complete(msg))) await new Promise<void>((r) => call.once('drain', () => r()));
    }
  };

  if (!def.requestStream && !def.responseStream) {
    return ((call: ServerUnaryCall<unknown, unknown>, callback: (e: unknown, r?: unknown) => void) =>
      run(call, (c) => handler(call.request, c) as Promise<unknown>, (res) => callback(null, complete(res)), (e) => callback(e))) as never;
  }
  if (def.requestStream && !def.responseStream) {
    return ((call: ServerReadableStream<unknown, unknown>, callback: (e: unknown, r?: unknown) => void) =>
      run(call, (c) => handler(readStream(call), c) as Promise<unknown>, (res) => callback(null, complete(res)), (e) => callback(e))) as never;
  }
  if (!def.requestStream && def.responseStream) {
    return ((call: ServerWritableStream<unknown, unknown>) =>
      run(call, (c) => writeAll(call, handler(call.request, c) as AsyncIterable<unknown>), () => call.end(), (e) => call.emit('error', e))) as never;
  }
  return ((call: ServerDuplexStream<unknown, unknown>) =>
    run(call, (c) => writeAll(call, handler(readStream(call), c) as AsyncIterable<unknown>), () => call.end(), (e) => call.emit('error', e))) as never;
}
