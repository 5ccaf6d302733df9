import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  ConflictError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  MinicloudError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  type ErrorCode,
} from '@minicloud/domain-errors';

/** Trailing metadata key holding the error's structured fields as JSON. */
export const ERROR_DETAIL_KEY = 'minicloud-error';

const CODES: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  INTERNAL: status.INTERNAL,
};

/** Name of a gRPC status code, e.g. 5 -> "NOT_FOUND". */
export function statusName(code: number): string {
  return status[code] ?? String(code);
}

/**
 * The one place that maps errors to gRPC statuses. A {@link MinicloudError} keeps its code and
 * message, and its structured fields travel in trailing metadata; anything else is a bug and becomes
 * INTERNAL with a generic message (the caller should log the original).
 */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  const metadata = new Metadata();
  if (err instanceof MinicloudError) {
    metadata.set(
      ERROR_DETAIL_KEY,
      JSON.stringify({ code: err.code, field: err.field, resourceType: err.resourceType, resourceId: err.resourceId, reason: err.reason }),
    );
    return { code: CODES[err.code], details: err.message, metadata, message: err.message, name: err.name };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata, message: 'internal error' };
}

/**
 * Rebuilds a typed error from a gRPC client error, so callers `catch (e) { if (e instanceof
 * NotFoundError) ... }` across service boundaries.
 */
export function fromServiceError(err: Partial<ServiceError>): MinicloudError {
  const details = err.details ?? err.message ?? 'unknown error';
  let extra: { field?: string; resourceType?: string; resourceId?: string; reason?: string } = {};
  const raw = err.metadata?.get(ERROR_DETAIL_KEY)?.[0];
  if (typeof raw === 'string') {
    try {
      extra = JSON.parse(raw);
    } catch {
      extra = {};
    }
  }
  let e: MinicloudError;
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      e = new InvalidArgumentError(extra.field ?? 'request', '');
      break;
    case status.NOT_FOUND:
      e = new NotFoundError(extra.resourceType ?? 'resource', extra.resourceId ?? '');
      break;
    case status.ALREADY_EXISTS:
      e = new AlreadyExistsError(extra.resourceType ?? 'resource', extra.resourceId ?? '');
      break;
    case status.FAILED_PRECONDITION:
      e = new FailedPreconditionError(details, extra.reason);
      break;
    case status.RESOURCE_EXHAUSTED:
      e = new ResourceExhaustedError(details, extra.reason);
      break;
    case status.UNAUTHENTICATED:
      e = new UnauthenticatedError(details);
      break;
    case status.PERMISSION_DENIED:
      e = new PermissionDeniedError(details);
      break;
    case status.ABORTED:
      e = new ConflictError(details);
      break;
    case status.UNAVAILABLE:
      e = new UnavailableError(details);
      break;
    case status.DEADLINE_EXCEEDED:
      e = new DeadlineExceededError(details);
      break;
    default:
      e = new InternalError(details);
  }
  e.message = details;
  Object.assign(e, extra);
  return e;
}
