import type { Clock, TimerHandle } from '@minicloud/domain-clock';
import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Default start of virtual time: 2023-11-14T22:13:20Z, a round epoch-ms value far from 0. */
export const FAKE_CLOCK_START_MS = 1_700_000_000_000;

class FakeTimer {
  constructor(
    readonly id: number,
    readonly dueMs: number,
    readonly fn: () => void,
  ) {}
}

/** Lets every queued microtask (and promise chains they start) run, using one real macrotask turn. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A virtual-time {@link Clock} for tests: time moves only when the test calls `advance`/`advanceAsync`.
 * Timers fire in (due time, creation order) order, with `nowMs()` equal to the timer's due time while
 * its callback runs; timers created by a callback fire in the same `advance` if they fall inside the
 * window. A callback that throws stops the advance and the error propagates to the caller (the timer
 * is already removed; later timers stay pending).
 */
export class FakeClock implements Clock {
  private currentMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  /** @param startMs initial virtual time in ms since the epoch (default {@link FAKE_CLOCK_START_MS}). */
  constructor(startMs: number = FAKE_CLOCK_START_MS) {
    if (!Number.isFinite(startMs)) throw new InvalidArgumentError('startMs', 'must be a finite number');
    this.currentMs = startMs;
  }

  /** Current virtual time in ms since the epoch. */
  nowMs(): number {
    return this.currentMs;
  }

  /** Schedules `fn` at `nowMs() + delayMs`; a negative or non-finite delay counts as 0. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const timer = new FakeTimer(this.nextId++, this.currentMs + delay, fn);
    this.timers.set(timer.id, timer);
    return timer;
  }

  /** Cancels a pending timer; unknown, fired or foreign handles are ignored (as Node does). */
  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof FakeTimer) this.timers.delete(handle.id);
  }

  /**
   * Moves virtual time forward by `ms`, firing every timer due within the window synchronously.
   * @throws InvalidArgumentError when `ms` is negative or not finite
   */
  advance(ms: number): void {
    const targetMs = this.targetOf(ms);
    for (let t = this.nextDue(targetMs); t; t = this.nextDue(targetMs)) this.fire(t);
    this.currentMs = targetMs;
  }

  /**
   * Like {@link advance}, but lets pending microtasks run before and after each timer, so async code
   * awaiting between timers (e.g. `await sleep(clock, 100)` in a loop) progresses as it would in real time.
   * @throws InvalidArgumentError when `ms` is negative or not finite
   */
  async advanceAsync(ms: number): Promise<void> {
    const targetMs = this.targetOf(ms);
    await flushMicrotasks();
    for (let t = this.nextDue(targetMs); t; t = this.nextDue(targetMs)) {
      this.fire(t);
      await flushMicrotasks();
    }
    this.currentMs = targetMs;
    await flushMicrotasks();
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  private targetOf(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('ms', 'must be a finite number >= 0');
    return this.currentMs + ms;
  }

  private nextDue(targetMs: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) {
      // Map iteration is insertion (= id) order, so a strict < keeps creation order among equal due times.
      if (t.dueMs <= targetMs && (!best || t.dueMs < best.dueMs)) best = t;
    }
    return best;
  }

  private fire(timer: FakeTimer): void {
    this.timers.delete(timer.id);
    this.currentMs = Math.max(this.currentMs, timer.dueMs);
    timer.fn();
  }
}
