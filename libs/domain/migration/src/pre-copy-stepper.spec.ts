import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { simulatePreCopyMigration } from './pre-copy';
import { PreCopyMigration } from './pre-copy-stepper';

const MiB = 1024 * 1024;

describe('PreCopyMigration (step-wise QEMU pre-copy)', () => {
  it('steps through the hand-computed case: 1 GiB at 100 MiB/s, 10 MiB/s dirty -> 2 rounds then stop-and-copy', () => {
    const m = new PreCopyMigration({ ramBytes: 1024 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB });
    const r0 = m.next(10 * MiB);
    expect(r0).toMatchObject({ kind: 'round', round: { index: 0, sentBytes: 1024 * MiB, throttlePct: 0 } });
    expect(m.remainingBytes).toBeCloseTo(102.4 * MiB, 0);
    expect(m.next(10 * MiB)).toMatchObject({ kind: 'round', round: { index: 1 } });
    const end = m.next(10 * MiB);
    expect(end.kind).toBe('stop_and_copy');
    if (end.kind !== 'stop_and_copy') return;
    expect(end.downtimeMs).toBeCloseTo(102.4, 6);
    expect(m.elapsedMs).toBeCloseTo(10240 + 1024 + 102.4, 6);
    expect(() => m.next(0)).toThrow(/already ended/);
  });

  it('uses the dirty rate given at each step (a workload that calms down converges)', () => {
    const m = new PreCopyMigration({ ramBytes: 1024 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB, timeoutMs: 60_000 });
    // 200 MiB/s for two rounds: the whole RAM is dirty again; then the guest idles.
    expect(m.next(200 * MiB).kind).toBe('round');
    expect(m.remainingBytes).toBe(1024 * MiB);
    expect(m.next(200 * MiB).kind).toBe('round');
    expect(m.next(0).kind).toBe('round');
    expect(m.remainingBytes).toBe(0);
    expect(m.next(0)).toMatchObject({ kind: 'stop_and_copy', remainingBytes: 0, downtimeMs: 0 });
  });

  it('timeout action force_complete: post-copy when permitted, else the paused guest copies everything left at once', () => {
    const params = { maxBandwidthBytesPerSecond: 100 * MiB, timeoutMs: 15_000, timeoutAction: 'force_complete' as const };
    const post = new PreCopyMigration({ ramBytes: 1024 * MiB, deviceStateBytes: MiB }, { ...params, permitPostCopy: true });
    expect(post.next(200 * MiB).kind).toBe('round');
    const switched = post.next(200 * MiB);
    expect(switched).toMatchObject({ kind: 'postcopy', remainingBytes: 1024 * MiB, deviceStateBytes: MiB });
    if (switched.kind !== 'postcopy') return;
    expect(switched.downtimeMs).toBeCloseTo(10, 6); // 1 MiB of device state at 100 MiB/s
    expect(switched.pullMs).toBeCloseTo(10_240, 6);
    expect(post.elapsedMs).toBeCloseTo(10_240 + 10 + 10_240, 6);
    const paused = new PreCopyMigration({ ramBytes: 1024 * MiB }, params);
    paused.next(200 * MiB);
    const end = paused.next(200 * MiB);
    expect(end).toMatchObject({ kind: 'stop_and_copy', remainingBytes: 1024 * MiB });
    if (end.kind === 'stop_and_copy') expect(end.downtimeMs).toBeCloseTo(10_240, 6); // far past the 300 ms limit: the guest was paused
    // The default stays Nova's abort.
    const abort = new PreCopyMigration({ ramBytes: 1024 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB, timeoutMs: 15_000, permitPostCopy: true });
    abort.next(200 * MiB);
    expect(abort.next(200 * MiB)).toEqual({ kind: 'abort', reason: 'timeout' });
  });

  it('a requested force-complete ends the migration at the next step: post-copy when permitted, else stop-and-copy', () => {
    // A guest that never converges (dirties 200 MiB/s against 100 MiB/s of bandwidth), no timeout.
    const paused = new PreCopyMigration({ ramBytes: 1024 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB });
    expect(paused.next(200 * MiB).kind).toBe('round');
    expect(paused.forceCompleteRequested).toBe(false);
    paused.requestForceComplete();
    expect(paused.forceCompleteRequested).toBe(true);
    const end = paused.next(200 * MiB);
    expect(end).toMatchObject({ kind: 'stop_and_copy', remainingBytes: 1024 * MiB });
    if (end.kind === 'stop_and_copy') expect(end.downtimeMs).toBeCloseTo(10_240, 6);
    expect(() => paused.requestForceComplete()).toThrow(InvalidArgumentError);
    const post = new PreCopyMigration({ ramBytes: 1024 * MiB, deviceStateBytes: MiB }, { maxBandwidthBytesPerSecond: 100 * MiB, permitPostCopy: true });
    post.next(200 * MiB);
    post.requestForceComplete();
    expect(post.next(200 * MiB)).toMatchObject({ kind: 'postcopy', remainingBytes: 1024 * MiB, deviceStateBytes: MiB });
    // A migration about to converge on its own still ends in the ordinary stop-and-copy.
    const calm = new PreCopyMigration({ ramBytes: 1024 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB });
    calm.next(0);
    calm.requestForceComplete();
    expect(calm.next(0)).toMatchObject({ kind: 'stop_and_copy', remainingBytes: 0 });
  });

  it('aborts at the timeout without sending more; post-copy pulls the remainder after the switch', () => {
    const t = new PreCopyMigration({ ramBytes: 1024 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB, timeoutMs: 15_000 });
    expect(t.next(200 * MiB).kind).toBe('round');
    expect(t.next(200 * MiB)).toEqual({ kind: 'abort', reason: 'timeout' });
    expect(t.transferredBytes).toBe(1024 * MiB);
    const p = new PreCopyMigration({ ramBytes: 1024 * MiB, deviceStateBytes: MiB }, { maxBandwidthBytesPerSecond: 100 * MiB, postcopyAfterRounds: 1 });
    p.next(200 * MiB);
    const s = p.next(200 * MiB);
    expect(s).toMatchObject({ kind: 'postcopy', remainingBytes: 1024 * MiB });
    if (s.kind === 'postcopy') {
      expect(s.downtimeMs).toBeCloseTo(10, 6);
      expect(s.pullMs).toBeCloseTo(10240, 6);
    }
  });

  it('property: with a constant dirty rate it is exactly simulatePreCopyMigration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 10, max: 500 }), fc.boolean(), (ramMb, dirtyMbS, bwMbS, autoConverge) => {
        const params = { maxBandwidthBytesPerSecond: bwMbS * MiB, autoConverge, maxRounds: 300, timeoutMs: 3_600_000 };
        const sim = simulatePreCopyMigration({ ramBytes: ramMb * MiB, dirtyRateBytesPerSecond: dirtyMbS * MiB }, params);
        const m = new PreCopyMigration({ ramBytes: ramMb * MiB }, params);
        let step = m.next(dirtyMbS * MiB);
        while (step.kind === 'round') step = m.next(dirtyMbS * MiB);
        expect(m.rounds).toEqual(sim.rounds);
        expect(m.elapsedMs).toBeCloseTo(sim.totalTimeMs, 6);
        expect(step.kind === 'abort' ? 'aborted' : 'completed').toBe(sim.status);
        if (step.kind === 'stop_and_copy') expect(step.downtimeMs).toBeLessThanOrEqual(300 + 1e-9);
      }),
    );
  });

  it('rejects a bad dirty rate naming the field', () => {
    const m = new PreCopyMigration({ ramBytes: MiB });
    expect(() => m.next(-1)).toThrow(InvalidArgumentError);
    expect(() => m.next(Number.NaN)).toThrow(/dirty_rate_bytes_per_second/);
    expect(() => new PreCopyMigration({ ramBytes: 0 })).toThrow(/ram_bytes/);
  });
});
