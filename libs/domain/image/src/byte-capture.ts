/**
 * Keeps one byte range [start, start + length) of a sequential stream. A capture registered after the
 * stream has already passed its start can never be filled and is marked `missed`.
 */
export class ByteCapture {
  readonly bytes: Uint8Array;
  filled = 0;
  readonly missed: boolean;

  constructor(
    readonly start: number,
    readonly length: number,
    streamPosition: number,
    readonly onComplete?: (bytes: Uint8Array) => void,
  ) {
    this.missed = start < streamPosition;
    this.bytes = new Uint8Array(this.missed ? 0 : length);
  }

  get complete(): boolean {
    return !this.missed && this.filled === this.length;
  }

  /** Copies the part of `chunk` (which starts at stream offset `chunkStart`) that falls in the range. */
  offer(chunk: Uint8Array, chunkStart: number): void {
    if (this.missed || this.complete) return;
    const from = Math.max(this.start, chunkStart);
    const to = Math.min(this.start + this.length, chunkStart + chunk.length);
    if (to <= from) return;
    this.bytes.set(chunk.subarray(from - chunkStart, to - chunkStart), from - this.start);
    this.filled += to - from;
    if (this.complete) this.onComplete?.(this.bytes);
  }

  /** The bytes received so far (all of them once complete). */
  received(): Uint8Array {
    return this.bytes.subarray(0, this.filled);
  }
}
