import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { CheckpointScheduler, checkpointBandwidthBytesPerSecond, DEFAULT_MAX_LAG_EPOCHS, FT_MAX_THROTTLE_PCT, initialCopyMs, REMUS_EPOCH_MS } from './checkpoint-schedule';

const MiB = 2 ** 20;

describe('CheckpointScheduler (Remus continuous checkpoints)', () => {
  it('defaults to the Remus paper interval of 25 ms (40 checkpoints/s) and a 4-epoch lag bound', () => {
    const s = new CheckpointScheduler({ bandwidthBytesPerSecond: 100 * MiB, ramBytes: 1024 * MiB });
    expect(REMUS_EPOCH_MS).toBe(25);
    expect(s.epochMs).toBe(25);
    expect(s.maxLagMs).toBe(DEFAULT_MAX_LAG_EPOCHS * 25);
  });

  it('hand-computed epoch: 40 MiB/s dirty over 25 ms = 1 MiB, sent in 10 ms at 100 MiB/s; packets wait 12.5 + 10 + rtt', () => {
    const s = new CheckpointScheduler({ bandwidthBytesPerSecond: 100 * MiB, ramBytes: 1024 * MiB, ackRttMs: 1 });
    const c = s.next(40 * MiB);
    expect(c).toEqual({ index: 1, dirtyBytes: 1 * MiB, transferMs: 10, lagMs: 0, ackDelayMs: 11, outputCommitDelayMs: 23.5, throttlePct: 0 });
    expect(s.checkpoints).toBe(1);
    expect(s.checkpointBytes).toBe(MiB);
  });

  it('falls behind when an epoch dirties more than the link sends in one, then slows the primary', () => {
    // 400 MiB/s dirty = 10 MiB per epoch = 100 ms at 100 MiB/s: the backlog grows 75 ms per epoch.
    const s = new CheckpointScheduler({ bandwidthBytesPerSecond: 100 * MiB, ramBytes: 1024 * MiB });
    expect(s.next(400 * MiB)).toMatchObject({ lagMs: 75, throttlePct: 0 });
    expect(s.next(400 * MiB)).toMatchObject({ lagMs: 150, ackDelayMs: 175, throttlePct: 0 });
    // lag 150 > 100: slowed for the next epoch
    expect(s.throttlePct).toBe(10);
    expect(s.next(400 * MiB).dirtyBytes).toBeCloseTo(9 * MiB, 6);
  });

  it('releases the slowdown once the stream keeps up again', () => {
    const s = new CheckpointScheduler({ bandwidthBytesPerSecond: 100 * MiB, ramBytes: 1024 * MiB });
    for (let i = 0; i < 5; i++) s.next(400 * MiB);
    const slowed = s.throttlePct;
    expect(slowed).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) s.next(0);
    expect(s.lagMs).toBe(0);
    expect(s.throttlePct).toBe(0);
  });

  it('caps an epoch at the RAM (a page dirtied twice is sent once)', () => {
    const s = new CheckpointScheduler({ bandwidthBytesPerSecond: 100 * MiB, ramBytes: MiB, epochMs: 1000 });
    expect(s.next(50 * MiB).dirtyBytes).toBe(MiB);
  });

  it('rejects bad input naming the field', () => {
    expect(() => new CheckpointScheduler({ bandwidthBytesPerSecond: 0, ramBytes: 1 })).toThrow(/bandwidth_bytes_per_second/);
    expect(() => new CheckpointScheduler({ bandwidthBytesPerSecond: 1, ramBytes: 1, epochMs: 0 })).toThrow(/epoch_ms/);
    expect(() => new CheckpointScheduler({ bandwidthBytesPerSecond: 1, ramBytes: 1, ackRttMs: -1 })).toThrow(/ack_rtt_ms/);
    expect(() => new CheckpointScheduler({ bandwidthBytesPerSecond: 1, ramBytes: 0 })).toThrow(InvalidArgumentError);
    expect(() => new CheckpointScheduler({ bandwidthBytesPerSecond: 1, ramBytes: 1 }).next(-1)).toThrow(/dirty_rate_bytes_per_second/);
    expect(() => initialCopyMs(0, 1)).toThrow(/ram_bytes/);
    expect(() => checkpointBandwidthBytesPerSecond([0, 10])).toThrow(/nic_gbps/);
  });

  it('property: when the link is faster than the dirty rate the lag stays 0 and nothing is slowed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 5, max: 200 }), (bwMbS, pct, epochMs) => {
        const s = new CheckpointScheduler({ bandwidthBytesPerSecond: bwMbS * MiB, ramBytes: 4096 * MiB, epochMs });
        for (let i = 0; i < 50; i++) {
          const c = s.next(((bwMbS * pct) / 100) * MiB);
          expect(c.lagMs).toBe(0);
          expect(c.throttlePct).toBe(0);
          expect(c.transferMs).toBeLessThanOrEqual(epochMs + 1e-9);
        }
      }),
    );
  });

  it('property: whatever the dirty rate, slowing the primary bounds the lag (as VMware FT does)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 1000 }), fc.integer({ min: 1, max: 50 }), (bwMbS, overload) => {
        const bw = bwMbS * MiB;
        const s = new CheckpointScheduler({ bandwidthBytesPerSecond: bw, ramBytes: 64 * 1024 * MiB });
        let maxLag = 0;
        for (let i = 0; i < 2000; i++) maxLag = Math.max(maxLag, s.next(bw * overload).lagMs);
        expect(s.throttlePct).toBeLessThanOrEqual(FT_MAX_THROTTLE_PCT);
        // Once slowed enough, an epoch sends less than it lasts: the lag drains and stays bounded.
        expect(s.next(bw * overload).lagMs).toBeLessThan(maxLag + 1e-9);
        expect(Number.isFinite(maxLag)).toBe(true);
      }),
    );
  });
});

describe('initialCopyMs / checkpointBandwidthBytesPerSecond', () => {
  it('sends the RAM once at the bandwidth, like pre-copy round 0', () => {
    expect(initialCopyMs(512 * MiB, 128 * MiB)).toBe(4000);
  });

  it('takes the slower NIC less what other streams use there', () => {
    expect(checkpointBandwidthBytesPerSecond([10, 1])).toBe(125e6);
    expect(checkpointBandwidthBytesPerSecond([10, 10], [1e9, 0])).toBe(250e6);
    expect(checkpointBandwidthBytesPerSecond([1, 1], [2e8, 0])).toBe(0);
  });
});
