import { FailedPreconditionError, UnavailableError } from '@minicloud/domain-errors';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { KeyedWorkQueue, retryBackoffMs } from './work-queue';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedWorkQueue', () => {
  it('deduplicates queued ids and re-runs an id enqueued while running, once', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new KeyedWorkQueue(
      'test',
      async (id) => {
        calls.push(id);
        if (calls.length === 1) await gate;
      },
      { concurrency: 1, logger: silentLogger() },
    );
    const ac = new AbortController();
    const running = q.start(ac.signal);
    q.enqueue('a');
    await tick();
    q.enqueue('a');
    q.enqueue('a');
    q.enqueue('b');
    q.enqueue('b');
    release();
    for (let i = 0; i < 10 && q.size() > 0; i++) await tick();
    expect(calls).toEqual(['a', 'b', 'a']);
    ac.abort();
    await running;
  });

  it('never runs one id on two workers at once', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const q = new KeyedWorkQueue(
      'test',
      async () => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await tick();
        concurrent--;
      },
      { concurrency: 8, logger: silentLogger() },
    );
    const ac = new AbortController();
    const running = q.start(ac.signal);
    for (let i = 0; i < 20; i++) {
      q.enqueue('same');
      await tick();
    }
    for (let i = 0; i < 20 && q.size() > 0; i++) await tick();
    expect(maxConcurrent).toBe(1);
    ac.abort();
    await running;
  });

  describe('errors', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    async function run(err: () => unknown) {
      const calls: string[] = [];
      const registry = new Registry();
      const q = new KeyedWorkQueue(
        'errs',
        async (id) => {
          calls.push(id);
          if (calls.length === 1) throw err();
        },
        { concurrency: 1, logger: silentLogger(), registry },
      );
      const ac = new AbortController();
      const running = q.start(ac.signal);
      q.enqueue('x');
      for (let i = 0; i < 5; i++) await tick();
      jest.advanceTimersByTime(retryBackoffMs(1));
      for (let i = 0; i < 5; i++) await tick();
      ac.abort();
      await running;
      const results = (await registry.getSingleMetric('minicloud_workqueue_reconciles_total')!.get()).values.map((v) => `${v.labels.result}=${v.value}`);
      return { calls, results };
    }

    it('retries a transient error (agent unreachable) after the backoff', async () => {
      const { calls, results } = await run(() => new UnavailableError('agent unreachable'));
      expect(calls).toEqual(['x', 'x']);
      expect(results.sort()).toEqual(['done=1', 'retry=1']);
    });

    it('does not retry a terminal error (a refusal, a programming error)', async () => {
      for (const e of [new FailedPreconditionError('locked', 'instance_locked'), new TypeError('x is undefined')]) {
        const { calls, results } = await run(() => e);
        expect(calls).toEqual(['x']);
        expect(results).toEqual(['failed=1']);
      }
    });
  });

  it('backs off 200 ms doubling up to 10 s', () => {
    expect([1, 2, 3, 6, 7, 20].map(retryBackoffMs)).toEqual([200, 400, 800, 6400, 10_000, 10_000]);
  });
});
