/** Opaque handle of a timer made by a {@link Clock}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/**
 * The time source every model and loop is driven by, injected so the same code runs in real time
 * (platform's `systemClock`), in scaled time (`scaledClock`, `TIME_SCALE`) and in virtual time
 * (`FakeClock` from @minicloud/testing, or the offline simulator). Times are milliseconds since the
 * Unix epoch, in the clock's own (possibly scaled or virtual) time.
 */
export interface Clock {
  /** Current time in ms since the epoch. */
  nowMs(): number;
  /** Calls `fn` once after `delayMs` of this clock's time. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A random number source in [0, 1), injected so domain code stays deterministic under test. */
export type Rng = () => number;

/**
 * A small seeded PRNG (mulberry32, public domain, by Tommy Ettinger) for reproducible simulations.
 * @param seed any 32-bit integer
 * @returns an Rng yielding floats in [0, 1)
 */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
