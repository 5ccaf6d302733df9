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

/**
 * Base of the errors that carry no field of their own (only a message and an optional reason):
 * the subclass is `MinicloudError` with its code fixed.
 */
function errorWithCode<C extends ErrorCode>(code: C) {
  return class extends MinicloudError {
    readonly code = code;
  };
}

/** The resource is in a state that does not allow the operation; the message names the state. */
export class FailedPreconditionError extends errorWithCode('FAILED_PRECONDITION') {}

/** Quota or capacity exhausted (NoValidHost, pool full, quota exceeded). */
export class ResourceExhaustedError extends errorWithCode('RESOURCE_EXHAUSTED') {}

/** No credentials, or credentials that do not verify (bad signature, expired, revoked). */
export class UnauthenticatedError extends errorWithCode('UNAUTHENTICATED') {}

/** Authenticated, but the caller's roles do not allow the call. */
export class PermissionDeniedError extends errorWithCode('PERMISSION_DENIED') {}

/** A concurrent change won (optimistic conflict); the caller may retry. */
export class ConflictError extends errorWithCode('ABORTED') {}

/** A dependency (service, Redis, NATS) cannot be reached now; retrying later may succeed. */
export class UnavailableError extends errorWithCode('UNAVAILABLE') {}

/** An operation ran out of time. */
export class DeadlineExceededError extends errorWithCode('DEADLINE_EXCEEDED') {}

/** A bug or an unexpected failure; details are logged, not sent. */
export class InternalError extends errorWithCode('INTERNAL') {}

/** True when `e` is any minicloud typed error. */
export function isMinicloudError(e: unknown): e is MinicloudError {
  return e instanceof MinicloudError;
}
