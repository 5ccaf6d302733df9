import type { Logger } from '@minicloud/platform-logging';
import type { Runnable } from '@minicloud/platform-lifecycle';

/** Returns ms to requeue after, or nothing when done. A throw retries with backoff. */
export type ReconcileFn = (id: string, signal: AbortSignal) => Promise<number | void>;

/**
 * A deduplicating work queue keyed by id (controller-runtime's workqueue): an id is processed by one
 * worker at a time; enqueuing a queued id is a no-op and enqueuing a running one re-runs it once after.
 * Errors requeue with exponential backoff (200 ms doubling to 10 s). Ids enqueued before `start`
 * wait for it.
 */
export class KeyedWorkQueue implements Runnable {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private signal?: AbortSignal;
  private inFlight = new Set<Promise<void>>();

  constructor(
    readonly name: string,
    private readonly reconcile: ReconcileFn,
    private readonly opts: { concurrency: number; logger: Logger },
  ) {}

  enqueue(id: string, delayMs = 0): void {
    if (delayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.enqueue(id);
      }, delayMs);
      t.unref?.();
      this.timers.add(t);
      return;
    }
    if (this.running.has(id)) {
      this.dirty.add(id);
      return;
    }
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  /** Ids waiting or being processed. */
  size(): number {
    return this.queued.size + this.running.size;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.pump();
    await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.inFlight);
  }

  private pump(): void {
    const signal = this.signal;
    if (!signal || signal.aborted) return;
    while (this.running.size < this.opts.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.queued.delete(id);
      this.running.add(id);
      const p = this.process(id, signal).finally(() => {
        this.inFlight.delete(p);
        this.running.delete(id);
        if (this.dirty.delete(id)) this.enqueue(id);
        this.pump();
      });
      this.inFlight.add(p);
    }
  }

  private async process(id: string, signal: AbortSignal): Promise<void> {
    try {
      const after = await this.reconcile(id, signal);
      this.failures.delete(id);
      if (typeof after === 'number' && !signal.aborted) this.enqueue(id, after);
    } catch (e) {
      const n = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, n);
      const backoff = Math.min(10_000, 200 * 2 ** (n - 1));
      this.opts.logger.warn({ err: e instanceof Error ? e.message : e, id, attempt: n, retry_in_ms: backoff }, `${this.name}: reconcile failed`);
      if (!signal.aborted) this.enqueue(id, backoff);
    }
  }
}
