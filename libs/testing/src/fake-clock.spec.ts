import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { FAKE_CLOCK_START_MS, FakeClock } from './fake-clock';

describe('FakeClock', () => {
  it('starts at the given time, or the default epoch ms', () => {
    expect(new FakeClock().nowMs()).toBe(FAKE_CLOCK_START_MS);
    expect(new FakeClock(42).nowMs()).toBe(42);
  });

  it('moves time only on advance and fires a timer exactly when due', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.nowMs()), 100);
    clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.nowMs()).toBe(99);
    clock.advance(1);
    expect(fired).toEqual([100]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires due timers in time order, ties in creation order, each seeing its own due time', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.nowMs()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.nowMs()}`), 10);
    clock.setTimeout(() => fired.push(`b1@${clock.nowMs()}`), 20);
    clock.setTimeout(() => fired.push(`b2@${clock.nowMs()}`), 20);
    clock.advance(25);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20']);
    expect(clock.nowMs()).toBe(25);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('fires timers scheduled by fired callbacks when they fall inside the window', () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    const tick = () => {
      ticks.push(clock.nowMs());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(350);
    expect(ticks).toEqual([100, 200, 300]);
    expect(clock.pendingTimers()).toBe(1);
    clock.setTimeout(() => ticks.push(-1), 0);
    clock.advance(0);
    expect(ticks).toEqual([100, 200, 300, -1]);
  });

  it('clearTimeout cancels a pending timer and ignores fired or foreign handles', () => {
    const clock = new FakeClock(0);
    const fn = jest.fn();
    const handle = clock.setTimeout(fn, 10);
    clock.clearTimeout(handle);
    clock.clearTimeout({});
    clock.advance(20);
    expect(fn).not.toHaveBeenCalled();
    const fired = clock.setTimeout(fn, 1);
    clock.advance(1);
    expect(() => clock.clearTimeout(fired)).not.toThrow();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('treats negative and NaN delays as 0', () => {
    const clock = new FakeClock(0);
    const fn = jest.fn();
    clock.setTimeout(fn, -5);
    clock.setTimeout(fn, Number.NaN);
    clock.advance(0);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('rejects a negative or non-finite advance with InvalidArgumentError', async () => {
    const clock = new FakeClock(0);
    expect(() => clock.advance(-1)).toThrow(InvalidArgumentError);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(InvalidArgumentError);
    await expect(clock.advanceAsync(-1)).rejects.toThrow(InvalidArgumentError);
    expect(clock.nowMs()).toBe(0);
  });

  it('propagates an error thrown by a callback and leaves later timers pending', () => {
    const clock = new FakeClock(0);
    const later = jest.fn();
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    clock.setTimeout(later, 20);
    expect(() => clock.advance(30)).toThrow('boom');
    expect(later).not.toHaveBeenCalled();
    expect(clock.pendingTimers()).toBe(1);
  });

  it('advanceAsync lets async loops that await between timers progress', async () => {
    const clock = new FakeClock(0);
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const seen: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(100);
        await Promise.resolve(); // extra hops, like real async code doing I/O-free work
        seen.push(clock.nowMs());
      }
    })();
    await clock.advanceAsync(1000);
    await loop;
    expect(seen).toEqual([100, 200, 300, 400, 500]);
    expect(clock.nowMs()).toBe(1000);
  });

  it('advance (sync) does not run microtasks between timers, which is why advanceAsync exists', async () => {
    const clock = new FakeClock(0);
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const seen: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(100);
        seen.push(clock.nowMs());
      }
    })();
    clock.advance(1000);
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual([1000]);
  });

  it('property: timers fire once each, in non-decreasing due order, at their due time', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 }), fc.integer({ min: 0, max: 1200 }), (delays, stepMs) => {
        const clock = new FakeClock(0);
        const fired: Array<{ index: number; atMs: number }> = [];
        delays.forEach((d, index) => clock.setTimeout(() => fired.push({ index, atMs: clock.nowMs() }), d));
        clock.advance(stepMs);
        const expected = delays
          .map((d, index) => ({ index, atMs: d }))
          .filter((t) => t.atMs <= stepMs)
          .sort((a, b) => a.atMs - b.atMs || a.index - b.index);
        expect(fired).toEqual(expected);
        expect(clock.pendingTimers()).toBe(delays.length - expected.length);
      }),
    );
  });
});
