import { randomUUID } from 'node:crypto';
import { Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { messageTypesByPath } from '@minicloud/proto';
import { currentRequestId, REQUEST_ID_HEADER } from '@minicloud/platform-logging';
import { fromServiceError } from './status-mapping';
import { clientCredentialsOf, grpcTlsFromEnv, type GrpcTls } from './tls';
import type { CallOptions, MethodDefinition, ServiceClient, ServiceDefinition } from './types';

export interface ClientOptions {
  /** Default per-call deadline in ms (default 10 s). */
  deadlineMs?: number;
  /** Supplies the bearer token for each call (e.g. a cached service token). */
  token?: () => string | undefined | Promise<string | undefined>;
  /**
   * Method names (camelCase) safe to retry on UNAVAILABLE / DEADLINE_EXCEEDED; default: every
   * `get*`/`list*` method. Retries back off exponentially from `retryBaseMs` (default 100 ms).
   */
  idempotent?: string[];
  maxAttempts?: number;
  retryBaseMs?: number;
  maxMessageBytes?: number;
  /**
   * TLS towards the server (verify it against `tls.ca`); `null` forces plaintext; default: the
   * process's environment ({@link grpcTlsFromEnv}: TLS when TLS_CA_FILE is set, else plaintext).
   */
  tls?: GrpcTls | null;
}

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

async function* toAsync<T>(src: AsyncIterable<T> | T[]): AsyncIterable<T> {
  for await (const x of src as AsyncIterable<T>) yield x;
}

/**
 * A promise-based client for a generated service definition. Requests may be partial (defaults are
 * filled with the request type's `fromPartial`); errors come back as typed minicloud errors
 * ({@link fromServiceError}); every call carries `authorization` and `x-request-id` metadata (the
 * call's `requestId`, else the request being handled, else a new id) and a deadline; idempotent
 * unary calls are retried with backoff.
 * @param address host:port (with TLS, the host must be a name or IP address in the server's certificate)
 * @throws Error when TLS is configured by the environment but its files cannot be read ({@link grpcTlsFromEnv})
 */
export function createServiceClient<D extends ServiceDefinition>(definition: D, address: string, opts: ClientOptions = {}): ServiceClient<D> {
  const client = new Client(address, clientCredentialsOf(opts.tls === null ? undefined : (opts.tls ?? grpcTlsFromEnv())), {
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? 8 * 1024 * 1024,
    'grpc.max_send_message_length': opts.maxMessageBytes ?? 8 * 1024 * 1024,
  });
  const out: Record<string, unknown> = { close: () => client.close() };

  const metadataFor = async (callOpts: CallOptions = {}) => {
    const md = new Metadata();
    md.set(REQUEST_ID_HEADER, callOpts.requestId || currentRequestId() || randomUUID());
    const token = callOpts.token ?? (await opts.token?.());
    if (token) md.set('authorization', `Bearer ${token}`);
    return md;
  };
  const deadline = (callOpts: CallOptions = {}) => new Date(Date.now() + (callOpts.deadlineMs ?? opts.deadlineMs ?? 10_000));

  for (const [name, def] of Object.entries(definition) as [string, MethodDefinition][]) {
    const types = messageTypesByPath.get(def.path);
    const complete = (req: unknown) => (types ? types.request.fromPartial(req ?? {}) : req) as never;
    const idempotent = opts.idempotent ? opts.idempotent.includes(name) : /^(get|list)/.test(name);

    if (!def.requestStream && !def.responseStream) {
      out[name] = async (req: unknown, callOpts: CallOptions = {}) => {
        const attempts = (callOpts.retry ?? idempotent) ? (opts.maxAttempts ?? 4) : 1;
        for (let attempt = 1; ; attempt++) {
          try {
            const md = await metadataFor(callOpts);
            return await new Promise((resolve, reject) =>
              client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, complete(req), md, { deadline: deadline(callOpts) }, (err, res) =>
                err ? reject(err) : resolve(res),
              ),
            );
          } catch (e) {
            const se = e as ServiceError;
            if (attempt < attempts && RETRYABLE.has(se.code)) {
              await new Promise((r) => setTimeout(r, (opts.retryBaseMs ?? 100) * 2 ** (attempt - 1)));
              continue;
            }
            throw fromServiceError(se);
          }
        }
      };
    } else if (def.requestStream && !def.responseStream) {
      out[name] = async (reqs: AsyncIterable<unknown> | unknown[], callOpts: CallOptions = {}) => {
        const md = await metadataFor(callOpts);
        return new Promise((resolve, reject) => {
          const call = client.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, md, { deadline: deadline(callOpts) }, (err, res) =>
            err ? reject(fromServiceError(err)) : resolve(res),
          );
          (async () => {
            for await (const r of toAsync(reqs)) {
              if (!call.write(complete(r))) await new Promise<void>((ok) => call.once('drain', () => ok()));
            }
            call.end();
          })().catch((e) => {
            call.cancel();
            reject(e);
          });
        });
      };
    } else if (!def.requestStream && def.responseStream) {
      out[name] = (req: unknown, callOpts: CallOptions = {}) =>
        (async function* () {
          const md = await metadataFor(callOpts);
          const call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, complete(req), md, { deadline: deadline(callOpts) });
          try {
            for await (const msg of call) yield msg;
          } catch (e) {
            throw fromServiceError(e as ServiceError);
          }
        })();
    } else {
      out[name] = (reqs: AsyncIterable<unknown>, callOpts: CallOptions = {}) =>
        (async function* () {
          const md = await metadataFor(callOpts);
          const call = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, md, { deadline: deadline(callOpts) });
          (async () => {
            for await (const r of reqs) {
              if (!call.write(complete(r))) await new Promise<void>((ok) => call.once('drain', () => ok()));
            }
            call.end();
          })().catch(() => call.cancel());
          try {
            for await (const msg of call) yield msg;
          } catch (e) {
            throw fromServiceError(e as ServiceError);
          }
        })();
    }
  }
  return out as ServiceClient<D>;
}
