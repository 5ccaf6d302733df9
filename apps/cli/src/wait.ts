import { SingleBar } from 'cli-progress';
import { DeadlineExceededError } from '@minicloud/domain-errors';
import type { OutputStream } from './io';

/** What one poll of one resource found: a label to show and whether it reached a final state. */
export interface ProbeResult {
  label: string;
  settled: boolean;
}

/** Poll loop settings; the clock and the sleep are injected so tests drive time. */
export interface WaitOptions {
  /** Give up after this long (the CLI's --timeout, default 300). */
  timeoutSeconds: number;
  /** Delay between polling rounds; default 1000 ms. */
  pollIntervalMs?: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Progress goes here: a cli-progress bar when it is a TTY, else one line per state change. */
  stderr: OutputStream;
  /** Noun shown in progress, e.g. "servers active". */
  what: string;
}

/**
 * Polls every id with `probe` until all are settled. Returns the last label of each id, in order.
 * Progress: on a TTY a bar (settled/total); otherwise a line `<id>: <label>` whenever a label changes.
 * @throws DeadlineExceededError naming the unsettled ids when `timeoutSeconds` passes; errors thrown
 *   by `probe` propagate.
 */
export async function waitUntilSettled(ids: readonly string[], probe: (id: string) => Promise<ProbeResult>, opts: WaitOptions): Promise<string[]> {
  const deadline = opts.now() + opts.timeoutSeconds * 1000;
  const labels = new Map<string, string>();
  const settled = new Set<string>();
  const bar = opts.stderr.isTTY
    ? new SingleBar({
        stream: opts.stderr as NodeJS.WritableStream,
        format: `{bar} {value}/{total} ${opts.what} | {states}`,
        hideCursor: true,
        clearOnComplete: false,
      })
    : undefined;
  bar?.start(ids.length, 0, { states: '' });
  try {
    for (;;) {
      for (const id of ids) {
        if (settled.has(id)) continue;
        const r = await probe(id);
        if (r.settled) settled.add(id);
        if (labels.get(id) !== r.label) {
          labels.set(id, r.label);
          if (!bar) opts.stderr.write(`${id}: ${r.label}\n`);
        }
      }
      bar?.update(settled.size, { states: summarize([...labels.values()]) });
      if (settled.size === ids.length) return ids.map((id) => labels.get(id) ?? '');
      if (opts.now() >= deadline) {
        const pending = ids.filter((id) => !settled.has(id));
        throw new DeadlineExceededError(`timed out after ${opts.timeoutSeconds} s waiting for ${pending.join(', ')} (${pending.map((id) => labels.get(id)).join(', ')})`);
      }
      await opts.sleep(opts.pollIntervalMs ?? 1000);
    }
  } finally {
    bar?.stop();
  }
}

/** "ACTIVE x2, BUILD x1" */
function summarize(labels: string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => `${l} x${n}`).join(', ');
}
