import { MinicloudError, UnavailableError } from '@minicloud/domain-errors';

/**
 * True when an UNAVAILABLE error says no connection was made, so the call reached no server and is
 * safe to send elsewhere whatever it does (grpc-js: "No connection established", socket errors).
 */
export function neverConnected(e: unknown): boolean {
  return e instanceof MinicloudError && e.code === 'UNAVAILABLE' && /No connection established|ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|connect E/i.test(e.message);
}

/**
 * The default failover rule: UNAVAILABLE moves a call to the next endpoint when that is safe: always
 * when no connection was made ({@link neverConnected}), and for reads (`get*`/`list*` methods) after
 * a dropped connection. A write that may have reached the dead replica is never sent twice, and no
 * other error (NOT_FOUND, PERMISSION_DENIED, DEADLINE_EXCEEDED...) is failed over.
 */
export function safeToFailOver(method: string, e: unknown): boolean {
  return neverConnected(e) || (e instanceof MinicloudError && e.code === 'UNAVAILABLE' && /^(get|list)/.test(method));
}

/** Options of {@link failoverClient}. */
export interface FailoverOptions<C> {
  /**
   * The endpoints (host:port) in failover order, read at every call so a changed catalog is seen
   * (e.g. `() => credentials.endpoints('compute')`, or a fixed list). An empty list throws what
   * `endpoints` throws, or an UNAVAILABLE naming no endpoint.
   */
  endpoints: () => readonly string[] | Promise<readonly string[]>;
  /** Creates the client of one endpoint; called once per endpoint and cached until `close()`. */
  connect: (address: string) => C;
  /** Whether a failed call of `method` may be sent to the next endpoint; default {@link safeToFailOver}. */
  retryable?: (method: string, error: unknown) => boolean;
  /**
   * Methods that return an async iterable (server and bidi streams): sent to the preferred endpoint
   * without failover, since part of the stream may already have been consumed when one fails.
   */
  streams?: readonly string[];
}

/**
 * One client over the replicas of a service (controller replicas in the catalog): a promise-returning
 * method is sent to the endpoint that answered last (else the first listed), and a failure that
 * `retryable` allows moves it to the next endpoint in list order, each endpoint tried at most once per
 * call. The endpoint that answers becomes the preferred one for later calls. Stream methods
 * (`opts.streams`) go to the preferred endpoint without failover.
 *
 * @returns a client of the same shape as `connect`'s; `close()` closes every endpoint's client.
 * @throws the first endpoint's error when every endpoint failed retryably; any other error at once.
 */
export function failoverClient<C extends object>(opts: FailoverOptions<C>): C & { close(): void } {
  const clients = new Map<string, C>();
  let preferred: string | undefined;
  const clientOf = (address: string) => clients.get(address) ?? clients.set(address, opts.connect(address)).get(address)!;
  const retryable = opts.retryable ?? safeToFailOver;
  const order = (urls: readonly string[]) => (preferred && urls.includes(preferred) ? [preferred, ...urls.filter((u) => u !== preferred)] : [...urls]);
  const listed = async () => {
    const urls = await opts.endpoints();
    if (urls.length === 0) throw new UnavailableError('no endpoint to call');
    return order(urls);
  };
  const close = () => {
    for (const c of clients.values()) (c as { close?: () => void }).close?.();
    clients.clear();
  };

  const call = async (method: string, args: unknown[]) => {
    let first: unknown;
    for (const address of await listed()) {
      const target = clientOf(address) as Record<string, (...a: unknown[]) => unknown>;
      try {
        const res = await target[method](...args);
        preferred = address;
        return res;
      } catch (e) {
        if (!retryable(method, e)) throw e;
        first ??= e;
      }
    }
    throw first;
  };

  return new Proxy({} as C & { close(): void }, {
    get(_target, prop) {
      if (prop === 'close') return close;
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      if (opts.streams?.includes(prop)) {
        return (...args: unknown[]) =>
          (async function* () {
            const [address] = await listed();
            yield* (clientOf(address) as Record<string, (...a: unknown[]) => AsyncIterable<unknown>>)[prop](...args);
          })();
      }
      return (...args: unknown[]) => call(prop, args);
    },
  });
}
