import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * Timing of a spawn on the simulated host: fetch the base image from the image service (skipped on
 * a cache hit), create the VM's thin QCOW2 overlay on it (`qemu-img create -f qcow2 -b base`), then
 * boot the guest.
 */
export interface BootModelConfig {
  /** Image download bandwidth, Mbit/s (10^6 bits per second); usually the host NIC's. */
  readonly fetchBandwidthMbps: number;
  /** Creating the QCOW2 overlay: metadata only, so a constant, ms. */
  readonly overlayCreateMs: number;
  /** Guest boot from power-on to "running", ms. Kept small by default so tests stay fast. */
  readonly guestBootMs: number;
}

/** 1 Gbit/s fetch, 20 ms overlay, 300 ms boot. */
export const DEFAULT_BOOT_MODEL: BootModelConfig = Object.freeze({ fetchBandwidthMbps: 1000, overlayCreateMs: 20, guestBootMs: 300 });

/** The parts of a spawn's duration, all in ms; `totalMs` is their sum. */
export interface SpawnDuration {
  readonly fetchMs: number;
  readonly overlayMs: number;
  readonly bootMs: number;
  readonly totalMs: number;
}

/**
 * How long a spawn takes.
 * @param imageSizeBytes size of the base image to fetch
 * @param imageCached true when the base image is in the host's image cache (fetch skipped)
 * @returns durations in ms; fetchMs = imageSizeBytes * 8 / (fetchBandwidthMbps * 10^6) * 1000
 * @throws InvalidArgumentError (`image_size_bytes`, `boot_model.<field>`) for negative sizes/times or a
 *   bandwidth that is not > 0.
 */
export function spawnDurationMs(imageSizeBytes: number, imageCached: boolean, config: BootModelConfig = DEFAULT_BOOT_MODEL): SpawnDuration {
  if (!(imageSizeBytes >= 0) || !Number.isFinite(imageSizeBytes)) throw new InvalidArgumentError('image_size_bytes', `must be >= 0, got ${imageSizeBytes}`);
  if (!(config.fetchBandwidthMbps > 0) || !Number.isFinite(config.fetchBandwidthMbps)) {
    throw new InvalidArgumentError('boot_model.fetch_bandwidth_mbps', `must be > 0, got ${config.fetchBandwidthMbps}`);
  }
  if (!(config.overlayCreateMs >= 0)) throw new InvalidArgumentError('boot_model.overlay_create_ms', `must be >= 0, got ${config.overlayCreateMs}`);
  if (!(config.guestBootMs >= 0)) throw new InvalidArgumentError('boot_model.guest_boot_ms', `must be >= 0, got ${config.guestBootMs}`);
  const fetchMs = imageCached ? 0 : (imageSizeBytes * 8 * 1000) / (config.fetchBandwidthMbps * 1e6);
  const overlayMs = config.overlayCreateMs;
  const bootMs = config.guestBootMs;
  return { fetchMs, overlayMs, bootMs, totalMs: fetchMs + overlayMs + bootMs };
}
