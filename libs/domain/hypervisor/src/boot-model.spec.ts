import { InvalidArgumentError } from '@minicloud/domain-errors';
import { DEFAULT_BOOT_MODEL, spawnDurationMs } from './boot-model';

describe('spawnDurationMs', () => {
  const GiB = 1024 ** 3;
  it.each([
    // bytes, cached, Mbps, overlay, boot, fetch ms (hand-computed), total
    [100e6, false, 1000, 20, 300, 800, 1120], // 800 Mbit at 1 Gbit/s = 0.8 s
    [100e6, true, 1000, 20, 300, 0, 320],
    [GiB, false, 10000, 0, 0, 858.9934592, 858.9934592], // 8 * 2^30 bits / 10^10 bit/s
    [0, false, 1, 5, 7, 0, 12],
  ])('%d bytes cached=%s at %d Mbit/s', (bytes, cached, mbps, overlay, boot, fetchMs, totalMs) => {
    const d = spawnDurationMs(bytes, cached, { fetchBandwidthMbps: mbps, overlayCreateMs: overlay, guestBootMs: boot });
    expect(d.fetchMs).toBeCloseTo(fetchMs, 6);
    expect(d.overlayMs).toBe(overlay);
    expect(d.bootMs).toBe(boot);
    expect(d.totalMs).toBeCloseTo(totalMs, 6);
  });

  it('defaults to a fast boot so tests stay quick', () => {
    expect(spawnDurationMs(0, true).totalMs).toBe(DEFAULT_BOOT_MODEL.overlayCreateMs + DEFAULT_BOOT_MODEL.guestBootMs);
    expect(spawnDurationMs(0, true).totalMs).toBeLessThan(1000);
  });

  it.each([
    [-1, DEFAULT_BOOT_MODEL, 'image_size_bytes'],
    [1, { ...DEFAULT_BOOT_MODEL, fetchBandwidthMbps: 0 }, 'boot_model.fetch_bandwidth_mbps'],
    [1, { ...DEFAULT_BOOT_MODEL, guestBootMs: -5 }, 'boot_model.guest_boot_ms'],
    [1, { ...DEFAULT_BOOT_MODEL, overlayCreateMs: Number.NaN }, 'boot_model.overlay_create_ms'],
  ])('rejects bad input (%p) naming the field', (bytes, config, field) => {
    expect(() => spawnDurationMs(bytes, false, config)).toThrow(InvalidArgumentError);
    expect(() => spawnDurationMs(bytes, false, config)).toThrow(field);
  });
});
