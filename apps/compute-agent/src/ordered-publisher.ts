/** A queue of publishes run one after another; see {@link createOrderedPublisher}. */
export interface OrderedPublisher {
  /**
   * Queues one event: when its turn comes, `build` makes it (so it says what holds then) and every
   * attempt of `publish` sends that same event; when the last attempt fails, `onLost` gets the error.
   */
  enqueue<E>(build: () => E, publish: (event: E) => Promise<unknown>, onLost: (err: unknown) => void): void;
  /** Resolves once everything queued so far is published or lost. */
  flush(): Promise<void>;
}

/** Attempts per publish before it is given up as lost. */
const MAX_ATTEMPTS = 5;

/**
 * Runs queued publishes one after another, so events reach the stream in the order they were queued.
 * A failed publish is retried (up to MAX_ATTEMPTS, waiting 200 ms, 400 ms, 800 ms, 1.6 s between
 * attempts) before the next one starts; then it is handed to its `onLost`.
 */
export function createOrderedPublisher(): OrderedPublisher {
  let chain: Promise<void> = Promise.resolve();
  const send = async <E>(build: () => E, publish: (event: E) => Promise<unknown>, onLost: (err: unknown) => void): Promise<void> => {
    const event = build();
    for (let n = 1; ; n++) {
      try {
        await publish(event);
        return;
      } catch (e) {
        if (n >= MAX_ATTEMPTS) return onLost(e);
        await new Promise((res) => setTimeout(res, 100 * 2 ** n));
      }
    }
  };
  return {
    enqueue: (build, publish, onLost) => {
      chain = chain.then(() => send(build, publish, onLost));
    },
    flush: () => chain,
  };
}
