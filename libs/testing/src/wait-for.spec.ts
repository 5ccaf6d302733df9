import { DeadlineExceededError } from '@minicloud/domain-errors';
import { waitFor } from './wait-for';

// waitFor polls real state by design, so these tests use real time with short bounds.
describe('waitFor', () => {
  it('returns at once when the condition already holds', async () => {
    const predicate = jest.fn(() => true);
    const startedMs = Date.now();
    await waitFor(predicate, { intervalMs: 1000 });
    expect(predicate).toHaveBeenCalledTimes(1);
    expect(Date.now() - startedMs).toBeLessThan(500);
  });

  it('polls until an async condition becomes true', async () => {
    let calls = 0;
    await waitFor(async () => ++calls >= 3, { intervalMs: 1 });
    expect(calls).toBe(3);
  });

  it('throws DeadlineExceededError with the message on timeout', async () => {
    const err = await waitFor(() => false, { timeoutMs: 50, intervalMs: 5, message: 'host h1 never went down' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect((err as Error).message).toBe('host h1 never went down (after 50 ms)');
  });

  it('treats a throwing predicate as not yet and keeps the last error as cause', async () => {
    let calls = 0;
    await waitFor(() => {
      if (++calls < 3) throw new Error('not connected');
      return true;
    }, { intervalMs: 1 });
    expect(calls).toBe(3);

    const err = (await waitFor(() => Promise.reject(new Error('ECONNREFUSED')), { timeoutMs: 30, intervalMs: 5 }).catch((e: unknown) => e)) as Error & { cause?: Error };
    expect(err.cause?.message).toBe('ECONNREFUSED');
  });

  it('does not wait past the deadline for a predicate that never settles', async () => {
    const startedMs = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 50 })).rejects.toThrow(DeadlineExceededError);
    expect(Date.now() - startedMs).toBeLessThan(1000);
  });
});
