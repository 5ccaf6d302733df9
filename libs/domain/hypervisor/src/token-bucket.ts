import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * A fluid token bucket (QEMU's block throttling, `throttle.c`: a leaky bucket per limit with a burst
 * size): tokens accrue at `ratePerSecond` up to `burst`. Time is passed in as the interval length, so
 * the bucket works for any tick length: over an interval of dt seconds at most
 * tokens + ratePerSecond x dt can be served (the bucket refills while it drains), and the tokens left
 * afterwards are capped at `burst`. `Infinity` as rate means unlimited.
 */
export class TokenBucket {
  private tokens: number;

  /** @throws InvalidArgumentError (`rate_per_second`, `burst`) unless rate > 0 and burst >= 0. */
  constructor(readonly ratePerSecond: number, readonly burst: number) {
    if (!(ratePerSecond > 0)) throw new InvalidArgumentError('rate_per_second', `must be > 0, got ${ratePerSecond}`);
    if (!(burst >= 0)) throw new InvalidArgumentError('burst', `must be >= 0, got ${burst}`);
    this.tokens = burst;
  }

  /** Tokens at hand now (before the next interval). */
  get level(): number {
    return this.tokens;
  }

  /** Most that can be served over the next `dtSeconds`. */
  available(dtSeconds: number): number {
    return this.tokens + this.ratePerSecond * dtSeconds;
  }

  /**
   * Serves up to `amount` over an interval of `dtSeconds` and returns what was served.
   * @throws InvalidArgumentError (`amount`, `dt_seconds`) for negative values.
   */
  take(amount: number, dtSeconds: number): number {
    if (!(amount >= 0)) throw new InvalidArgumentError('amount', `must be >= 0, got ${amount}`);
    if (!(dtSeconds >= 0)) throw new InvalidArgumentError('dt_seconds', `must be >= 0, got ${dtSeconds}`);
    const avail = this.available(dtSeconds);
    const served = Math.min(amount, avail);
    this.tokens = Math.min(this.burst, avail - served);
    return served;
  }
}

/** Per-VM disk I/O limits (Nova flavor quotas `quota:disk_total_iops_sec`, `quota:disk_total_bytes_sec`). */
export interface DiskIoLimits {
  /** Operations per second; undefined = unlimited. */
  readonly iopsLimit?: number;
  /** Bytes per second; undefined = unlimited. */
  readonly bytesPerSecondLimit?: number;
  /** Burst as seconds of the limit (QEMU's iops-total-max-length), default 1. */
  readonly burstSeconds?: number;
}

/** I/O served over one interval. */
export interface DiskIoServed {
  readonly ops: number;
  readonly bytes: number;
  /** served / demanded (1 when nothing was demanded). */
  readonly servedRatio: number;
}

/**
 * Both limits of a virtual disk: an I/O of the interval's mean size passes only when both buckets have
 * room, so the served fraction is the smaller of the two.
 */
export class DiskIoThrottle {
  private readonly iops?: TokenBucket;
  private readonly bw?: TokenBucket;

  /** @throws InvalidArgumentError (`disk_io.iops_limit` / `disk_io.bytes_per_second_limit`) unless > 0. */
  constructor(limits: DiskIoLimits = {}) {
    const burst = limits.burstSeconds ?? 1;
    if (limits.iopsLimit !== undefined) {
      if (!(limits.iopsLimit > 0)) throw new InvalidArgumentError('disk_io.iops_limit', `must be > 0, got ${limits.iopsLimit}`);
      this.iops = new TokenBucket(limits.iopsLimit, limits.iopsLimit * burst);
    }
    if (limits.bytesPerSecondLimit !== undefined) {
      if (!(limits.bytesPerSecondLimit > 0)) throw new InvalidArgumentError('disk_io.bytes_per_second_limit', `must be > 0, got ${limits.bytesPerSecondLimit}`);
      this.bw = new TokenBucket(limits.bytesPerSecondLimit, limits.bytesPerSecondLimit * burst);
    }
  }

  /** Serves `ops` operations totalling `bytes` over `dtSeconds`. */
  serve(ops: number, bytes: number, dtSeconds: number): DiskIoServed {
    let f = 1;
    if (this.iops && ops > 0) f = Math.min(f, this.iops.available(dtSeconds) / ops);
    if (this.bw && bytes > 0) f = Math.min(f, this.bw.available(dtSeconds) / bytes);
    this.iops?.take(ops * f, dtSeconds);
    this.bw?.take(bytes * f, dtSeconds);
    return { ops: ops * f, bytes: bytes * f, servedRatio: ops > 0 || bytes > 0 ? f : 1 };
  }
}
