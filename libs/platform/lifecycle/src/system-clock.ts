import type { Clock, TimerHandle } from '@minicloud/domain-clock';

/** Real time. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
};

/**
 * Scaled time (`TIME_SCALE`): simulated time runs `scale` times faster than real time, starting
 * from the real time at creation. Timers fire after delay/scale real ms.
 */
export function scaledClock(scale: number, startMs = Date.now()): Clock {
  if (!(scale > 0)) throw new Error(`TIME_SCALE must be > 0, got ${scale}`);
  const realStart = Date.now();
  return {
    nowMs: () => startMs + (Date.now() - realStart) * scale,
    setTimeout: (fn, ms) => setTimeout(fn, ms / scale) as unknown as TimerHandle,
    clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
  };
}
