import { silentLogger } from '@minicloud/platform-logging';
import { KeyedWorkQueue } from './work-queue';

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
});
