import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * Remus's checkpoint interval: 25 ms, i.e. 40 checkpoints per second (Cully et al., "Remus: High
 * Availability via Asynchronous Virtual Machine Replication", NSDI 2008, section 4). VMware FT's
 * vSphere 6 "fast checkpointing" works at a similar granularity, adapting it to the load.
 */
export const REMUS_EPOCH_MS = 25;

/**
 * How far (ms of untransmitted checkpoint data) the secondary may fall behind before the primary is
 * slowed: 4 epochs by default. VMware FT bounds the secondary's lag the same way (it slows the
 * primary's vCPUs when the log buffer fills, "VMware vSphere Fault Tolerance", Scales et al., 2010).
 */
export const DEFAULT_MAX_LAG_EPOCHS = 4;

/**
 * vCPU slowdown step applied per epoch while the secondary lags (and released per epoch once it has
 * caught up), percent; the same steps as QEMU's auto-converge (cpu-throttle-increment 10 %), capped
 * at its max-cpu-throttle 99 %.
 */
export const FT_THROTTLE_STEP_PCT = 10;
export const FT_MAX_THROTTLE_PCT = 99;

/** Settings of a checkpoint stream. */
export interface CheckpointParameters {
  /** Checkpoint interval, ms (> 0; default {@link REMUS_EPOCH_MS}). */
  readonly epochMs?: number;
  /** Bytes/s available to the stream on the path primary NIC -> secondary NIC (> 0). */
  readonly bandwidthBytesPerSecond: number;
  /** Guest RAM, bytes (> 0): an epoch never dirties more than all of it. */
  readonly ramBytes: number;
  /** Network round trip of the acknowledgement, ms (>= 0; default 0). */
  readonly ackRttMs?: number;
  /** Lag bound, ms (> 0; default {@link DEFAULT_MAX_LAG_EPOCHS} x epoch). */
  readonly maxLagMs?: number;
}

/** One checkpoint as scheduled: what the epoch dirtied, what sending it costs, where the stream stands after it. */
export interface Checkpoint {
  /** 1, 2, ... (0 is the initial full copy, see {@link initialCopyMs}). */
  readonly index: number;
  /** Bytes dirtied during the epoch at the throttled rate, capped at the RAM. */
  readonly dirtyBytes: number;
  /** dirtyBytes / bandwidth, ms. */
  readonly transferMs: number;
  /**
   * Backlog of the stream after this checkpoint was queued, ms of transfer not yet done when the next
   * epoch ends: max(0, previous lag + transfer - epoch). 0 while the link keeps up.
   */
  readonly lagMs: number;
  /** From the end of the epoch to the secondary's acknowledgement: previous lag + transfer + RTT, ms. */
  readonly ackDelayMs: number;
  /**
   * Mean added latency of an outgoing packet of this epoch (output commit: held until the epoch is
   * acknowledged): packets leave uniformly within the epoch, so they wait epoch/2 on average, plus the
   * acknowledgement delay, ms.
   */
  readonly outputCommitDelayMs: number;
  /** vCPU slowdown of the primary during this epoch, percent (0 = full speed). */
  readonly throttlePct: number;
}

/**
 * The primary's side of Remus-style continuous checkpointing as a pure stepper. Each call of
 * {@link next} closes one epoch: the pages the guest dirtied during it (dirty rate x (1 - throttle) x
 * epoch, capped at the RAM; a page dirtied twice is sent once) are queued on the link; the link
 * drains at the given bandwidth, so when a checkpoint takes longer than an epoch to send the backlog
 * (lag) grows. While the lag exceeds the bound the primary's vCPUs are slowed one step per epoch, as
 * VMware FT does; once the stream keeps up they are released one step per epoch.
 * @throws InvalidArgumentError naming the field for a non-positive epoch, bandwidth, RAM or lag bound,
 *   or a negative RTT.
 */
export class CheckpointScheduler {
  readonly epochMs: number;
  readonly maxLagMs: number;
  private lag = 0;
  private throttle = 0;
  private count = 0;
  private bytes = 0;

  constructor(private readonly p: CheckpointParameters) {
    this.epochMs = p.epochMs ?? REMUS_EPOCH_MS;
    this.maxLagMs = p.maxLagMs ?? DEFAULT_MAX_LAG_EPOCHS * this.epochMs;
    positive('epoch_ms', this.epochMs);
    positive('bandwidth_bytes_per_second', p.bandwidthBytesPerSecond);
    positive('ram_bytes', p.ramBytes);
    positive('max_lag_ms', this.maxLagMs);
    if (!(p.ackRttMs === undefined || (p.ackRttMs >= 0 && Number.isFinite(p.ackRttMs)))) throw new InvalidArgumentError('ack_rtt_ms', `must be >= 0, got ${p.ackRttMs}`);
  }

  /** Checkpoints scheduled so far. */
  get checkpoints(): number {
    return this.count;
  }

  /** Bytes of every checkpoint scheduled so far. */
  get checkpointBytes(): number {
    return this.bytes;
  }

  /** Current backlog, ms. */
  get lagMs(): number {
    return this.lag;
  }

  /** Current vCPU slowdown, percent. */
  get throttlePct(): number {
    return this.throttle;
  }

  /**
   * Closes one epoch.
   * @param dirtyRateBytesPerSecond the unthrottled guest's dirty rate during the epoch (>= 0), from
   *   the memory model (workload dirty rate)
   * @throws InvalidArgumentError (`dirty_rate_bytes_per_second`) when negative or not finite
   */
  next(dirtyRateBytesPerSecond: number): Checkpoint {
    if (!(dirtyRateBytesPerSecond >= 0) || !Number.isFinite(dirtyRateBytesPerSecond)) {
      throw new InvalidArgumentError('dirty_rate_bytes_per_second', `must be >= 0, got ${dirtyRateBytesPerSecond}`);
    }
    const throttlePct = this.throttle;
    const dirtyBytes = Math.min(this.p.ramBytes, (dirtyRateBytesPerSecond * (1 - throttlePct / 100) * this.epochMs) / 1000);
    const transferMs = (dirtyBytes / this.p.bandwidthBytesPerSecond) * 1000;
    const before = this.lag;
    const lag = before + transferMs - this.epochMs;
    // Below a nanosecond is rounding of a link exactly as fast as the guest, not a backlog.
    this.lag = lag > 1e-6 ? lag : 0;
    const ackDelayMs = before + transferMs + (this.p.ackRttMs ?? 0);
    if (this.lag > this.maxLagMs) this.throttle = Math.min(FT_MAX_THROTTLE_PCT, this.throttle + FT_THROTTLE_STEP_PCT);
    else if (this.lag === 0) this.throttle = Math.max(0, this.throttle - FT_THROTTLE_STEP_PCT);
    this.count += 1;
    this.bytes += dirtyBytes;
    return { index: this.count, dirtyBytes, transferMs, lagMs: this.lag, ackDelayMs, outputCommitDelayMs: this.epochMs / 2 + ackDelayMs, throttlePct };
  }
}

/**
 * The initial synchronisation when FT is turned on: the whole RAM sent once at the stream's bandwidth,
 * as a live migration's first pre-copy round (QEMU migration/ram.c round 0); the pages dirtied
 * meanwhile go with the first checkpoint.
 * @returns ms
 * @throws InvalidArgumentError (`ram_bytes`, `bandwidth_bytes_per_second`) when not > 0
 */
export function initialCopyMs(ramBytes: number, bandwidthBytesPerSecond: number): number {
  positive('ram_bytes', ramBytes);
  positive('bandwidth_bytes_per_second', bandwidthBytesPerSecond);
  return (ramBytes / bandwidthBytesPerSecond) * 1000;
}

/**
 * Bandwidth a checkpoint stream can use: the slower of the two hosts' NICs less what other streams
 * (live migrations, other FT pairs) already take on each, never below 0.
 * @param nicGbps the two hosts' NIC speeds, Gbit/s (10^9 bit/s)
 * @param usedBytesPerSecond what other streams use on each NIC, bytes/s
 * @returns bytes/s
 * @throws InvalidArgumentError (`nic_gbps`) for a non-positive NIC speed
 */
export function checkpointBandwidthBytesPerSecond(nicGbps: readonly [number, number], usedBytesPerSecond: readonly [number, number] = [0, 0]): number {
  nicGbps.forEach((g) => positive('nic_gbps', g));
  return Math.max(0, Math.min(...nicGbps.map((g, i) => (g * 1e9) / 8 - usedBytesPerSecond[i])));
}

function positive(field: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(field, `must be > 0, got ${v}`);
}
