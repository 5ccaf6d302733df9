import { isMinicloudError } from '@minicloud/domain-errors';

/** gRPC statuses that say "the call did not get through (in time)": worth another attempt. */
const TRANSIENT_CODES = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);

/**
 * ABORTED is a lost compare-and-set race ("changed concurrently; retry"), and stale_epoch an agent
 * that re-registers with a new epoch: both protocol answers that say the next attempt may pass.
 */
const RETRY_ANSWERS = new Set(['ABORTED']);

/** Socket errors of a lost connection (Node's error codes, as ioredis passes them on). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** ioredis's errors while its connection is down (offline queue off, retries per request used up). */
const REDIS_CONNECTION = /^(Connection is closed\.|Stream isn't writeable|Reached the max retries per request limit)/;

/** nats.js ErrorCode values of a lost or late connection ('503': no responders while JetStream restarts). */
const NATS_CODES = new Set(['DISCONNECT', 'TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'CONNECTION_DRAINING', '503']);

/**
 * Whether `e` is a known-transient failure a reconcile should retry with backoff:
 * - a typed minicloud error with gRPC status UNAVAILABLE or DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
 *   without a reason (the transport's own: our services always name why they refuse), ABORTED, or
 *   reason stale_epoch;
 * - a lost Redis connection (ioredis: connection closed, stream not writeable, max retries per
 *   request, or a socket error code such as ECONNREFUSED);
 * - a lost or late NATS connection (NatsError DISCONNECT, TIMEOUT, CONNECTION_*, 503).
 * Anything else (a refusal such as FAILED_PRECONDITION, or a programming error such as a TypeError)
 * is terminal: retrying would repeat it.
 */
export function isTransientError(e: unknown): boolean {
  if (isMinicloudError(e)) {
    if (TRANSIENT_CODES.has(e.code) || RETRY_ANSWERS.has(e.code) || e.reason === 'stale_epoch') return true;
    return e.code === 'RESOURCE_EXHAUSTED' && !e.reason;
  }
  if (!(e instanceof Error)) return false;
  const code = String((e as Error & { code?: unknown }).code ?? '');
  if (e.name === 'NatsError') return NATS_CODES.has(code);
  if (e.name === 'MaxRetriesPerRequestError') return true;
  return SOCKET_CODES.has(code) || REDIS_CONNECTION.test(e.message);
}
