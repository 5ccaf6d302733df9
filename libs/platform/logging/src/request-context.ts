import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The metadata key and NATS header that carry a request id between processes (`x-request-id`, as
 * gRPC metadata and as a NATS message header), so one request can be followed through every log.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What is known about the request the current code runs for. */
export interface RequestContext {
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` as part of request `requestId`: every log line of a {@link createLogger} logger written
 * while it runs (awaited continuations and timers it starts included) carries `request_id`, and
 * outgoing gRPC calls and NATS publishes pass the id on. An empty or undefined id runs `fn` as part
 * of no request: work that starts from another request's callback (a shared queue's worker, a message
 * without a header) must not inherit that request's id.
 */
export function runWithRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId ? storage.run({ requestId }, fn) : storage.exit(fn);
}

/** The request id the current code runs for, if any (see {@link runWithRequestId}). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
