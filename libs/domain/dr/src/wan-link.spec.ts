import { InvalidArgumentError } from '@minicloud/domain-errors';
import { WanLink } from './wan-link';

const MB = 1_000_000;

describe('WanLink', () => {
  it.each([
    // bandwidth B/s, latency ms, size B, now, expected start, expected completion
    [10 * MB, 0, 10 * MB, 0, 0, 1000],
    [10 * MB, 50, 10 * MB, 0, 0, 1050],
    [1 * MB, 20, 500_000, 100, 100, 620],
    [100 * MB, 5, 0, 7, 7, 12],
  ])('bw %d B/s, latency %d ms: %d bytes at t=%d start at %d, arrive at %d', (bw, lat, size, now, start, done) => {
    const link = new WanLink({ bandwidthBytesPerSecond: bw, latencyMs: lat });
    expect(link.send(size, now)).toEqual({ sizeBytes: size, queuedAtMs: now, startedAtMs: start, completedAtMs: done, durationMs: done - now });
  });

  it('queues transfers FIFO; latency pipelines and does not hold the link', () => {
    const link = new WanLink({ bandwidthBytesPerSecond: MB, latencyMs: 100 });
    const a = link.send(MB, 0);
    const b = link.send(MB, 0);
    expect(a.completedAtMs).toBe(1100);
    expect(b.startedAtMs).toBe(1000);
    expect(b.completedAtMs).toBe(2100);
    expect(link.backlogMs(500)).toBe(1500);
    expect(link.bytesSent).toBe(2 * MB);
  });

  it('an idle link starts a late transfer at once', () => {
    const link = new WanLink({ bandwidthBytesPerSecond: MB, latencyMs: 0 });
    link.send(MB, 0);
    expect(link.backlogMs(5000)).toBe(0);
    expect(link.send(MB, 5000).startedAtMs).toBe(5000);
  });

  it('estimates without queueing', () => {
    const link = new WanLink({ bandwidthBytesPerSecond: MB, latencyMs: 10 });
    link.send(MB, 0);
    expect(link.estimateMs(MB / 2, 0)).toBe(1000 + 500 + 10);
    expect(link.backlogMs(0)).toBe(1000);
  });

  it('rejects bad input naming the field', () => {
    expect(() => new WanLink({ bandwidthBytesPerSecond: 0, latencyMs: 0 })).toThrow(/bandwidth_bytes_per_second/);
    expect(() => new WanLink({ bandwidthBytesPerSecond: 1, latencyMs: -1 })).toThrow(/latency_ms/);
    expect(() => new WanLink({ bandwidthBytesPerSecond: 1, latencyMs: NaN })).toThrow(InvalidArgumentError);
    expect(() => new WanLink({ bandwidthBytesPerSecond: 1, latencyMs: 0 }).send(-1, 0)).toThrow(/size_bytes/);
  });
});
