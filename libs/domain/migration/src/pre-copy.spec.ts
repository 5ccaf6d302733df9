import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { QEMU_MIGRATION_DEFAULTS } from './migration-parameters';
import { simulatePreCopyMigration } from './pre-copy';

const MiB = 1024 * 1024;

describe('simulatePreCopyMigration', () => {
  it('converges in two rounds then stop-and-copy (hand-computed)', () => {
    // 1 GiB at 100 MiB/s: 10.24 s, 102.4 MiB dirtied; 1.024 s, 10.24 MiB dirtied; 10.24 MiB / 100 MiB/s = 102.4 ms <= 300 ms.
    const r = simulatePreCopyMigration({ ramBytes: 1024 * MiB, dirtyRateBytesPerSecond: 10 * MiB }, { maxBandwidthBytesPerSecond: 100 * MiB });
    expect(r.status).toBe('completed');
    expect(r.mode).toBe('precopy');
    expect(r.rounds).toHaveLength(2);
    expect(r.rounds[0].durationMs).toBeCloseTo(10240, 6);
    expect(r.rounds[1].sentBytes).toBeCloseTo(102.4 * MiB, 0);
    expect(r.downtimeMs).toBeCloseTo(102.4, 6);
    expect(r.totalTimeMs).toBeCloseTo(10240 + 1024 + 102.4, 6);
    expect(r.totalBytes).toBeCloseTo((1024 + 102.4 + 10.24) * MiB, 0);
  });

  it('uses the QEMU defaults: 300 ms downtime, 128 MiB/s', () => {
    expect(QEMU_MIGRATION_DEFAULTS.downtimeLimitMs).toBe(300);
    const r = simulatePreCopyMigration({ ramBytes: 128 * MiB, dirtyRateBytesPerSecond: 0 });
    expect(r.rounds[0].durationMs).toBeCloseTo(1000, 9);
    expect(r.downtimeMs).toBe(0);
  });

  it('never converges when the dirty rate exceeds the bandwidth, and aborts at the timeout', () => {
    const r = simulatePreCopyMigration(
      { ramBytes: 1024 * MiB, dirtyRateBytesPerSecond: 200 * MiB },
      { maxBandwidthBytesPerSecond: 100 * MiB, timeoutMs: 120_000 },
    );
    expect(r.status).toBe('aborted');
    expect(r.mode).toBe('timeout');
    expect(r.downtimeMs).toBe(0);
    // every round resends the whole RAM: the remainder never shrinks
    for (const round of r.rounds) expect(round.sentBytes).toBe(1024 * MiB);
  });

  it('converges with auto-converge: throttle 20 % after two high syncs, +10 % per two more', () => {
    const r = simulatePreCopyMigration(
      { ramBytes: 1024 * MiB, dirtyRateBytesPerSecond: 200 * MiB },
      { maxBandwidthBytesPerSecond: 100 * MiB, timeoutMs: 600_000, autoConverge: true },
    );
    expect(r.status).toBe('completed');
    expect(r.rounds[0].throttlePct).toBe(0);
    expect(r.rounds[1].throttlePct).toBe(0);
    expect(r.rounds[2].throttlePct).toBe(20);
    expect(r.rounds[4].throttlePct).toBe(30);
    // the remainder only shrinks once the guest dirties less than the bandwidth: throttle > 50 %
    expect(r.finalThrottlePct).toBeGreaterThan(50);
    expect(r.downtimeMs).toBeLessThanOrEqual(300);
  });

  it('post-copy completes a non-converging VM with only the device state as downtime', () => {
    const r = simulatePreCopyMigration(
      { ramBytes: 1024 * MiB, dirtyRateBytesPerSecond: 200 * MiB, deviceStateBytes: 1 * MiB },
      { maxBandwidthBytesPerSecond: 100 * MiB, postcopyAfterRounds: 1 },
    );
    expect(r.mode).toBe('postcopy');
    expect(r.downtimeMs).toBeCloseTo(10, 6);
    expect(r.totalTimeMs).toBeCloseTo(10240 + 10240 + 10, 6);
  });

  it('property: downtime never exceeds the limit (plus device state) when pre-copy converges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16384 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 10, max: 1000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.boolean(),
        (ramMb, dirtyMbS, bwMbS, downtimeMs, autoConverge) => {
          const r = simulatePreCopyMigration(
            { ramBytes: ramMb * MiB, dirtyRateBytesPerSecond: dirtyMbS * MiB },
            { maxBandwidthBytesPerSecond: bwMbS * MiB, downtimeLimitMs: downtimeMs, autoConverge, maxRounds: 500 },
          );
          if (r.status === 'completed') expect(r.downtimeMs).toBeLessThanOrEqual(downtimeMs + 1e-9);
          if (dirtyMbS < bwMbS / 2 && r.status !== 'completed') throw new Error('slow writer must converge');
        },
      ),
    );
  });

  it('rejects bad parameters naming the field', () => {
    expect(() => simulatePreCopyMigration({ ramBytes: 0, dirtyRateBytesPerSecond: 0 })).toThrow(InvalidArgumentError);
    expect(() => simulatePreCopyMigration({ ramBytes: 1, dirtyRateBytesPerSecond: -1 })).toThrow(/dirty_rate/);
    expect(() => simulatePreCopyMigration({ ramBytes: 1, dirtyRateBytesPerSecond: 0 }, { maxCpuThrottlePct: 100 })).toThrow(/max_cpu_throttle/);
  });
});
