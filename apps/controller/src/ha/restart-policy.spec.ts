import { FakeClock } from '@minicloud/testing';
import { isRestartable, orderRestarts, parseRestartPriority, ZoneRateLimiter, type RestartCandidate } from './restart-policy';

const c = (id: string, restartPriority: string, createdAtMs: number, more: Partial<RestartCandidate> = {}): RestartCandidate => ({
  id, restartPriority, createdAtMs, haEnabled: true, vmState: 'active', taskState: null, ...more,
});

describe('restart policy', () => {
  it('orders high, medium (and unset), low; oldest first within a priority', () => {
    const order = orderRestarts([c('a', 'low', 1), c('b', '', 5), c('c', 'high', 9), c('d', 'medium', 2), c('e', 'high', 3)]).map((x) => x.id);
    expect(order).toEqual(['e', 'c', 'd', 'b', 'a']);
  });

  it.each<[Partial<RestartCandidate> & { restartPriority?: string }, boolean]>([
    [{}, true],
    [{ haEnabled: false }, false],
    [{ restartPriority: 'disabled' }, false],
    [{ taskState: 'deleting' }, false],
    [{ vmState: 'deleted' }, false],
    [{ vmState: 'error' }, false],
    [{ vmState: 'stopped' }, false],
    [{ vmState: 'building', taskState: 'spawning' }, false],
  ])('restartable %j -> %s', (more, expected) => {
    expect(isRestartable(c('x', more.restartPriority ?? 'medium', 0, more))).toBe(expected);
  });

  it('parses priorities, rejecting unknown ones', () => {
    expect(parseRestartPriority('')).toBe('medium');
    expect(parseRestartPriority('HIGH')).toBe('high');
    expect(parseRestartPriority('urgent')).toBeUndefined();
  });

  it('rate-limits restarts per zone with a token bucket on a fake clock', () => {
    const clock = new FakeClock(0);
    const rl = new ZoneRateLimiter({ perSecond: 2, burst: 3 });
    const took = () => [1, 2, 3, 4].map(() => rl.tryTake('az1', clock.nowMs())).filter(Boolean).length;
    expect(took()).toBe(3);
    expect(rl.tryTake('az2', clock.nowMs())).toBe(true); // zones are independent
    clock.advance(500);
    expect(took()).toBe(1);
    clock.advance(10_000);
    expect(took()).toBe(3); // capped at burst
    expect(() => new ZoneRateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
