import type { Metadata } from '@grpc/grpc-js';
import type { AuthContext } from '@minicloud/platform-auth';
import type { Logger } from '@minicloud/platform-logging';

/** One method of a ts-proto `outputServices=grpc-js` service definition. */
export interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: never) => Buffer;
  requestDeserialize: (value: Buffer) => unknown;
  responseSerialize: (value: never) => Buffer;
  responseDeserialize: (value: Buffer) => unknown;
}

/** A generated service definition, e.g. `ComputeServiceService`. */
export type ServiceDefinition = Record<string, MethodDefinition>;

/** Request message type of a method definition. */
export type RequestOf<M> = M extends { requestDeserialize: (value: Buffer) => infer Q } ? Q : never;
/** Response message type of a method definition. */
export type ResponseOf<M> = M extends { responseDeserialize: (value: Buffer) => infer R } ? R : never;

/** Like ts-proto's DeepPartial: every field optional, recursively (arrays and maps included). */
export type DeepPartial<T> = T extends Date | Buffer | Uint8Array | string | number | boolean | undefined
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : Partial<T>;

/** What a handler knows about its call. */
export interface CallContext {
  /** gRPC method name as defined (camelCase), e.g. "createServer". */
  method: string;
  /** From the `x-request-id` metadata, or generated; logged and forwarded to downstream calls. */
  requestId: string;
  /** The verified caller; undefined only for `public` methods. */
  auth?: AuthContext;
  /** The caller's raw bearer token, forwarded when acting on the caller's behalf. */
  token?: string;
  logger: Logger;
  metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
}

/** The handler shape for one method, derived from its stream flags. */
export type HandlerFor<M> = M extends { requestStream: true; responseStream: true }
  ? (requests: AsyncIterable<RequestOf<M>>, ctx: CallContext) => AsyncIterable<DeepPartial<ResponseOf<M>>>
  : M extends { requestStream: true }
    ? (requests: AsyncIterable<RequestOf<M>>, ctx: CallContext) => Promise<DeepPartial<ResponseOf<M>>>
    : M extends { responseStream: true }
      ? (request: RequestOf<M>, ctx: CallContext) => AsyncIterable<DeepPartial<ResponseOf<M>>>
      : (request: RequestOf<M>, ctx: CallContext) => Promise<DeepPartial<ResponseOf<M>>>;

/** Handlers for every method of a service definition. Handlers may return partial messages. */
export type ServiceHandlers<D> = { [K in keyof D]: HandlerFor<D[K]> };

/** Per-call options of a client call. */
export interface CallOptions {
  /** Overrides the client's default deadline. */
  deadlineMs?: number;
  /** Overrides the client's token provider (e.g. to act with the caller's token). */
  token?: string;
  requestId?: string;
  /** Retry on UNAVAILABLE/DEADLINE_EXCEEDED; only for idempotent calls. Default: client's `idempotent` list. */
  retry?: boolean;
}

/** The client shape for one method. */
export type ClientMethodFor<M> = M extends { requestStream: true; responseStream: true }
  ? (requests: AsyncIterable<DeepPartial<RequestOf<M>>>, opts?: CallOptions) => AsyncIterable<ResponseOf<M>>
  : M extends { requestStream: true }
    ? (requests: AsyncIterable<DeepPartial<RequestOf<M>>> | DeepPartial<RequestOf<M>>[], opts?: CallOptions) => Promise<ResponseOf<M>>
    : M extends { responseStream: true }
      ? (request: DeepPartial<RequestOf<M>>, opts?: CallOptions) => AsyncIterable<ResponseOf<M>>
      : (request: DeepPartial<RequestOf<M>>, opts?: CallOptions) => Promise<ResponseOf<M>>;

/** A promise/async-iterator client for a service definition. */
export type ServiceClient<D> = { [K in keyof D]: ClientMethodFor<D[K]> } & { close(): void };
