/**
 * A long-lived part of a process (a server, a consumer, a control loop). `start` runs until the
 * signal aborts, then returns after cleaning up (controller-runtime's Runnable).
 */
export interface Runnable {
  name: string;
  start(signal: AbortSignal): Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleepUntilAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A Runnable that calls `tick` every `intervalMs` until aborted; an error in one tick is reported to
 * `onError` and the loop goes on.
 */
export function periodic(name: string, intervalMs: number, tick: (signal: AbortSignal) => Promise<void>, onError: (e: unknown) => void): Runnable {
  return {
    name,
    async start(signal) {
      while (!signal.aborted) {
        try {
          await tick(signal);
        } catch (e) {
          onError(e);
        }
        await sleepUntilAborted(intervalMs, signal);
      }
    },
  };
}
