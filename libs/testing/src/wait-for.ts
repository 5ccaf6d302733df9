import { DeadlineExceededError } from '@minicloud/domain-errors';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many real ms (default 5000). */
  timeoutMs?: number;
  /** Real ms between two polls (default 25). */
  intervalMs?: number;
  /** Text of the error thrown on timeout (default "waitFor: condition not met"). */
  message?: string;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls real state until `predicate` returns true, for integration and e2e tests. Returns as soon as
 * the condition holds (the first check is immediate). A predicate that throws or rejects counts as
 * "not yet"; the last such error is attached as `cause` of the timeout error. A predicate call still
 * pending at the deadline does not delay the timeout.
 * @throws DeadlineExceededError `${message} (after ${timeoutMs} ms)` when the deadline passes
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  opts: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const remainingMs = deadline - Date.now();
    const outcome = await checkOnce(predicate, Math.max(remainingMs, 0));
    if (outcome === true) return;
    if (outcome instanceof Error) lastError = outcome;
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) break;
    await sleepMs(Math.min(intervalMs, leftMs));
  }
  const error = new DeadlineExceededError(`${opts.message ?? 'waitFor: condition not met'} (after ${timeoutMs} ms)`);
  if (lastError !== undefined) (error as Error & { cause?: unknown }).cause = lastError;
  throw error;
}

/** One predicate call raced against the remaining time; resolves true, false or the error thrown. */
async function checkOnce(predicate: () => boolean | Promise<boolean>, remainingMs: number): Promise<boolean | Error> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const call = Promise.resolve().then(predicate);
    call.catch(() => undefined); // a rejection after the deadline must not surface as unhandled
    const expiry = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), remainingMs)));
    return (await Promise.race([call, expiry])) === true;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
  }
}
