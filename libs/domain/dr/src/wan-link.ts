import { InvalidArgumentError } from '@minicloud/domain-errors';

/** A modelled WAN link between two regions (one direction). */
export interface WanLinkParameters {
  /** Usable bandwidth, bytes/s (> 0). */
  readonly bandwidthBytesPerSecond: number;
  /** One-way latency, ms (>= 0): added once per transfer, after its last byte leaves. */
  readonly latencyMs: number;
}

/** One transfer as the link scheduled it. All times are ms on the caller's clock. */
export interface WanTransfer {
  readonly sizeBytes: number;
  /** When the transfer was offered to the link. */
  readonly queuedAtMs: number;
  /** When its first byte left: after every transfer queued before it has been sent (FIFO). */
  readonly startedAtMs: number;
  /** When its last byte arrived: start + size / bandwidth + latency. */
  readonly completedAtMs: number;
  /** completedAt - queuedAt: queueing + serialisation + latency. */
  readonly durationMs: number;
}

/**
 * A FIFO WAN link: transfers queue behind each other, each occupies the link for size / bandwidth,
 * and arrives one latency later (latency pipelines: it does not hold the link). This is the model
 * vSphere Replication's RPO estimates rest on (bandwidth = changed bytes per RPO window; VMware,
 * "vSphere Replication Calculating Bandwidth Requirements").
 * Pure: the caller passes the time; nothing reads a clock.
 * @throws InvalidArgumentError (`bandwidth_bytes_per_second`, `latency_ms`) for a non-positive
 *   bandwidth or a negative latency
 */
export class WanLink {
  private busyUntilMs = -Infinity;
  private sent = 0;

  constructor(readonly params: WanLinkParameters) {
    if (!(params.bandwidthBytesPerSecond > 0) || !Number.isFinite(params.bandwidthBytesPerSecond)) {
      throw new InvalidArgumentError('bandwidth_bytes_per_second', `must be > 0, got ${params.bandwidthBytesPerSecond}`);
    }
    if (!(params.latencyMs >= 0) || !Number.isFinite(params.latencyMs)) throw new InvalidArgumentError('latency_ms', `must be >= 0, got ${params.latencyMs}`);
  }

  /** Bytes of every transfer offered so far. */
  get bytesSent(): number {
    return this.sent;
  }

  /** ms from `nowMs` until the link is free (0 when idle). */
  backlogMs(nowMs: number): number {
    return Math.max(0, this.busyUntilMs - nowMs);
  }

  /** Serialisation time alone of `sizeBytes`, ms (no queueing, no latency). */
  serialisationMs(sizeBytes: number): number {
    return (sizeBytes / this.params.bandwidthBytesPerSecond) * 1000;
  }

  /**
   * What a transfer offered now would take, without queueing it: backlog + serialisation + latency, ms.
   * @throws InvalidArgumentError (`size_bytes`) for a negative or non-finite size
   */
  estimateMs(sizeBytes: number, nowMs: number): number {
    checkSize(sizeBytes);
    return this.backlogMs(nowMs) + this.serialisationMs(sizeBytes) + this.params.latencyMs;
  }

  /**
   * Queues a transfer of `sizeBytes` at `nowMs` and returns when it starts and completes.
   * @throws InvalidArgumentError (`size_bytes`) for a negative or non-finite size
   */
  send(sizeBytes: number, nowMs: number): WanTransfer {
    checkSize(sizeBytes);
    const startedAtMs = Math.max(nowMs, this.busyUntilMs);
    this.busyUntilMs = startedAtMs + this.serialisationMs(sizeBytes);
    this.sent += sizeBytes;
    const completedAtMs = this.busyUntilMs + this.params.latencyMs;
    return { sizeBytes, queuedAtMs: nowMs, startedAtMs, completedAtMs, durationMs: completedAtMs - nowMs };
  }
}

function checkSize(sizeBytes: number): void {
  if (!(sizeBytes >= 0) || !Number.isFinite(sizeBytes)) throw new InvalidArgumentError('size_bytes', `must be >= 0, got ${sizeBytes}`);
}
