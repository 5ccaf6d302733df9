import fc from 'fast-check';
import { DiskIoThrottle, TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('serves the burst at once, then the rate', () => {
    const b = new TokenBucket(100, 50);
    expect(b.take(80, 0)).toBe(50); // only the burst at t=0
    expect(b.take(300, 1)).toBe(100); // 0 left + 100/s x 1 s
    expect(b.take(10, 1)).toBe(10); // 100 accrued, 10 used, 90 left capped at burst 50
    expect(b.level).toBe(50);
  });

  it('covers a long interval without capping it at the burst (TIME_SCALE ticks of an hour)', () => {
    const b = new TokenBucket(100, 10);
    expect(b.take(1e9, 3600)).toBe(10 + 360_000);
  });

  it('property: over any sequence, served <= burst + rate x elapsed', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: fc.integer({ min: 0, max: 1000 }), dt: fc.double({ min: 0, max: 10, noNaN: true }) }), { maxLength: 50 }), (steps) => {
        const b = new TokenBucket(37, 20);
        let served = 0;
        let elapsed = 0;
        for (const s of steps) {
          elapsed += s.dt;
          served += b.take(s.a, s.dt);
          expect(served).toBeLessThanOrEqual(20 + 37 * elapsed + 1e-6);
        }
      }),
    );
  });
});

describe('DiskIoThrottle', () => {
  it('the tighter of the IOPS and bandwidth limits wins', () => {
    // 500 IOPS x 64 KiB = 31.25 MiB/s demanded; bandwidth capped at 8 MiB/s -> 8 / 31.25 = 25.6 % served
    const t = new DiskIoThrottle({ iopsLimit: 1000, bytesPerSecondLimit: 8 * 2 ** 20, burstSeconds: 0.000001 });
    const s = t.serve(500 * 10, 500 * 10 * 65536, 10);
    expect(s.servedRatio).toBeCloseTo(0.256, 6);
    expect(s.ops).toBeCloseTo(1280, 3);
    const iopsBound = new DiskIoThrottle({ iopsLimit: 100, burstSeconds: 0 });
    expect(iopsBound.serve(1000, 4096 * 1000, 1).ops).toBe(100);
    expect(new DiskIoThrottle().serve(5, 5, 1)).toEqual({ ops: 5, bytes: 5, servedRatio: 1 });
  });

  it('rejects a non-positive limit naming it', () => {
    expect(() => new DiskIoThrottle({ iopsLimit: 0 })).toThrow(/disk_io\.iops_limit/);
  });
});
