import { ConflictError, DeadlineExceededError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError } from '@minicloud/domain-errors';
import { isTransientError } from './transient';

/** An error shaped as nats.js's NatsError. */
function natsError(code: string): Error {
  return Object.assign(new Error(code.toLowerCase()), { name: 'NatsError', code });
}

describe('isTransientError', () => {
  it.each<[string, unknown]>([
    ['gRPC UNAVAILABLE', new UnavailableError('agent unreachable')],
    ['gRPC DEADLINE_EXCEEDED', new DeadlineExceededError('deadline exceeded')],
    ['RESOURCE_EXHAUSTED from the transport (no reason)', new ResourceExhaustedError('Received message larger than max')],
    ['ABORTED (lost a compare-and-set race)', new ConflictError('changed concurrently; retry')],
    ['an agent that re-registers (stale_epoch)', new FailedPreconditionError('stale epoch', 'stale_epoch')],
    ['ioredis: connection closed', new Error('Connection is closed.')],
    ['ioredis: max retries per request', Object.assign(new Error('Reached the max retries per request limit (which is 20).'), { name: 'MaxRetriesPerRequestError' })],
    ['a refused socket', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['NATS disconnect', natsError('DISCONNECT')],
    ['NATS timeout', natsError('TIMEOUT')],
    ['NATS connection closed', natsError('CONNECTION_CLOSED')],
  ])('retries %s', (_what, e) => {
    expect(isTransientError(e)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'hostId')")],
    ['a plain Error', new Error('spawn failed on host h1: image checksum mismatch')],
    ['a refusal (FAILED_PRECONDITION)', new FailedPreconditionError('instance is locked', 'instance_locked')],
    ['a refusal naming its reason (RESOURCE_EXHAUSTED host_ram_exhausted)', new ResourceExhaustedError('out of RAM', 'host_ram_exhausted')],
    ['NOT_FOUND', new NotFoundError('volume', 'v-1')],
    ['INVALID_ARGUMENT', new InvalidArgumentError('flavor_ref', 'is required')],
    ['INTERNAL', new InternalError('internal error')],
    ['a NATS permission error', natsError('PERMISSIONS_VIOLATION')],
    ['a thrown string', 'boom'],
  ])('does not retry %s', (_what, e) => {
    expect(isTransientError(e)).toBe(false);
  });
});
