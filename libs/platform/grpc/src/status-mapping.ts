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

/** The structured fields of an error as they travel in the {@link ERROR_DETAIL_KEY} metadata. */
type ErrorFields = { field?: string; resourceType?: string; resourceId?: string; reason?: string };

/** The typed error for each status a minicloud error maps to (any other status becomes InternalError). */
const FROM_STATUS: Partial<Record<status, (details: string, x: ErrorFields) => MinicloudError>> = {
  [status.INVALID_ARGUMENT]: (_d, x) => new InvalidArgumentError(x.field ?? 'request', ''),
  [status.NOT_FOUND]: (_d, x) => new NotFoundError(x.resourceType ?? 'resource', x.resourceId ?? ''),
  [status.ALREADY_EXISTS]: (_d, x) => new AlreadyExistsError(x.resourceType ?? 'resource', x.resourceId ?? ''),
  [status.FAILED_PRECONDITION]: (d, x) => new FailedPreconditionError(d, x.reason),
  [status.RESOURCE_EXHAUSTED]: (d, x) => new ResourceExhaustedError(d, x.reason),
  [status.UNAUTHENTICATED]: (d) => new UnauthenticatedError(d),
  [status.PERMISSION_DENIED]: (d) => new PermissionDeniedError(d),
  [status.ABORTED]: (d) => new ConflictError(d),
  [status.UNAVAILABLE]: (d) => new UnavailableError(d),
  [status.DEADLINE_EXCEEDED]: (d) => new DeadlineExceededError(d),
};

/**
 * Rebuilds a typed error from a gRPC client error, so callers `catch (e) { if (e instanceof
 * NotFoundError) ... }` across service boundaries.
 */
export function fromServiceError(err: Partial<ServiceError>): MinicloudError {
  const details = err.details ?? err.message ?? 'unknown error';
  let extra: ErrorFields = {};
  const raw = err.metadata?.get(ERROR_DETAIL_KEY)?.[0];
  if (typeof raw === 'string') {
    try {
      extra = JSON.parse(raw);
    } catch {
      extra = {};
    }
  }
  const make = err.code === undefined ? undefined : FROM_STATUS[err.code];
  const e = make ? make(details, extra) : new InternalError(details);
  e.message = details;
  Object.assign(e, extra);
  return e;
}
