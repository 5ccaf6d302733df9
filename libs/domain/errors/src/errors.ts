/**
 * Typed errors shared by every layer. Domain code throws these; the one mapping to gRPC status codes
 * lives in @minicloud/platform-grpc (`toServiceError` / `fromServiceError`), so a handler never picks
 * a status code by hand. Each class sets `name` and keeps the code as a gRPC status *name*
 * (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) so this package imports no gRPC.
 */

/** gRPC status names used by minicloud errors. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL';

/** Base class: a message for people plus the structured fields clients can act on. */
export abstract class MinicloudError extends Error {
  abstract readonly code: ErrorCode;
  /** Request field at fault (INVALID_ARGUMENT). */
  field?: string;
  /** Resource type, e.g. "flavor" (NOT_FOUND, ALREADY_EXISTS). */
  resourceType?: string;
  resourceId?: string;
  /** Machine-readable reason, e.g. "no_valid_host", "stale_epoch". */
  reason?: string;

  /** `name` is the concrete class's name (e.g. "ConflictError"), so subclasses need not repeat it. */
  constructor(message: string, reason?: string) {
    super(message);
    this.name = new.target.name;
    if (reason !== undefined) this.reason = reason;
  }
}

/** A request field is missing or malformed. The message names the field. */
export class InvalidArgumentError extends MinicloudError {
  readonly code = 'INVALID_ARGUMENT' as const;
  constructor(field: string, problem: string) {
    super(`invalid ${field}: ${problem}`);
    this.field = field;
  }
}

/** A named resource does not exist (or belongs to another project: OpenStack answers 404 too). */
export class NotFoundError extends MinicloudError {
  readonly code = 'NOT_FOUND' as const;
  constructor(resourceType: string, resourceId: string, detail?: string) {
    super(`${resourceType} ${resourceId} not found${detail ? `: ${detail}` : ''}`);
    this.resourceType = resourceType;
    this.resourceId = resourceId;
  }
}

/** A resource with that name or id exists already. */
export class AlreadyExistsError extends MinicloudError {
  readonly code = 'ALREADY_EXISTS' as const;
  constructor(resourceType: string, resourceId: string) {
    super(`${resourceType} ${resourceId} already exists`);
    this.resourceType = resourceType;
    this.resourceId = resourceId;
  }
}

/** The resource is in a state that does not allow the operation; the message names the state. */
export class FailedPreconditionError extends MinicloudError {
  readonly code = 'FAILED_PRECONDITION' as const;
}

/** Quota or capacity exhausted (NoValidHost, pool full, quota exceeded). */
export class ResourceExhaustedError extends MinicloudError {
  readonly code = 'RESOURCE_EXHAUSTED' as const;
}

/** No credentials, or credentials that do not verify (bad signature, expired, revoked). */
export class UnauthenticatedError extends MinicloudError {
  readonly code = 'UNAUTHENTICATED' as const;
}

/** Authenticated, but the caller's roles do not allow the call. */
export class PermissionDeniedError extends MinicloudError {
  readonly code = 'PERMISSION_DENIED' as const;
}

/** A concurrent change won (optimistic conflict); the caller may retry. */
export class ConflictError extends MinicloudError {
  readonly code = 'ABORTED' as const;
}

/** A dependency (service, Redis, NATS) cannot be reached now; retrying later may succeed. */
export class UnavailableError extends MinicloudError {
  readonly code = 'UNAVAILABLE' as const;
}

/** An operation ran out of time. */
export class DeadlineExceededError extends MinicloudError {
  readonly code = 'DEADLINE_EXCEEDED' as const;
}

/** A bug or an unexpected failure; details are logged, not sent. */
export class InternalError extends MinicloudError {
  readonly code = 'INTERNAL' as const;
}

/** True when `e` is any minicloud typed error. */
export function isMinicloudError(e: unknown): e is MinicloudError {
  return e instanceof MinicloudError;
}
