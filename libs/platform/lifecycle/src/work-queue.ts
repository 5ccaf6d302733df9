import type { Logger } from '@minicloud/platform-logging';
import { Counter, Gauge, Histogram, type Registry } from '@minicloud/platform-metrics';
import type { Runnable } from './runnable';
import { isTransientError } from './transient';

/**
 * One reconcile of `id`: returns ms to requeue after, or nothing when done. A throw is retried with
 * backoff when the queue's `isTransient` says so, else logged (with its stack) and dropped: the
 * reconcile is expected to record a terminal failure itself (an instance fault, say) before throwing
 * one. `log` is the queue's logger bound to this id.
 */
export type ReconcileFn = (id: string, signal: AbortSignal, log: Logger) => Promise<number | void>;

/** Settings of a {@link KeyedWorkQueue}. */
export interface KeyedWorkQueueOptions {
  /** Ids reconciled at once (each id by one worker at a time). */
  concurrency: number;
  logger: Logger;
  /** Log field naming the id (default `id`; e.g. `instance_id`). */
  idField?: string;
  /** Which errors are retried with backoff (default {@link isTransientError}). */
  isTransient?: (e: unknown) => boolean;
  /** Registers minicloud_workqueue_depth, _reconciles_total{result} and _reconcile_seconds, labelled by queue name. */
  registry?: Registry;
}

/** Backoff of the n-th consecutive transient failure of one id: 200 ms doubling, at most 10 s. */
export function retryBackoffMs(n: number): number {
  return Math.min(10_000, 200 * 2 ** (n - 1));
}

/**
 * A deduplicating work queue keyed by id (controller-runtime's workqueue), the engine every service
 * that reconciles reuses: an id is processed by one worker at a time; enqueuing a queued id is a no-op
 * and enqueuing a running one re-runs it once after. Transient errors requeue with exponential backoff
 * ({@link retryBackoffMs}); terminal ones are logged with their stack and not retried. Ids enqueued
 * before `start` wait for it.
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
  private readonly metrics?: { reconciles: Counter<string>; seconds: Histogram<string> };

  constructor(
    readonly name: string,
    private readonly reconcile: ReconcileFn,
    private readonly opts: KeyedWorkQueueOptions,
  ) {
    if (opts.registry) {
      const registers = [opts.registry];
      const size = () => this.size();
      const queueName = name;
      new Gauge({
        name: 'minicloud_workqueue_depth',
        help: 'Ids waiting or being reconciled, by queue.',
        labelNames: ['queue'],
        registers,
        collect() {
          this.set({ queue: queueName }, size());
        },
      });
      this.metrics = {
        reconciles: new Counter({ name: 'minicloud_workqueue_reconciles_total', help: 'Reconciles by queue and result (done, requeue, retry, failed).', labelNames: ['queue', 'result'], registers }),
        seconds: new Histogram({ name: 'minicloud_workqueue_reconcile_seconds', help: 'Duration of one reconcile, by queue.', labelNames: ['queue'], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
      };
    }
  }

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
    const log = this.opts.logger.child({ [this.opts.idField ?? 'id']: id, queue: this.name });
    const started = process.hrtime.bigint();
    const count = (result: string) => {
      this.metrics?.reconciles.inc({ queue: this.name, result });
      this.metrics?.seconds.observe({ queue: this.name }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      const after = await this.reconcile(id, signal, log);
      this.failures.delete(id);
      const requeue = typeof after === 'number' && !signal.aborted;
      count(requeue ? 'requeue' : 'done');
      if (requeue) this.enqueue(id, after);
    } catch (e) {
      if (!(this.opts.isTransient ?? isTransientError)(e)) {
        this.failures.delete(id);
        count('failed');
        log.error({ err: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }, `${this.name}: reconcile failed; not retried`);
        return;
      }
      const n = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, n);
      const backoff = retryBackoffMs(n);
      count('retry');
      log.warn({ err: e instanceof Error ? e.message : e, attempt: n, retry_in_ms: backoff }, `${this.name}: reconcile failed; retrying`);
      if (!signal.aborted) this.enqueue(id, backoff);
    }
  }
}
