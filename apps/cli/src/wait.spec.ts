import { DeadlineExceededError } from '@minicloud/domain-errors';
import { waitUntilSettled } from './wait';

function fakeTime() {
  let nowMs = 0;
  return { now: () => nowMs, sleep: async (ms: number) => void (nowMs += ms) };
}

describe('waitUntilSettled', () => {
  it('polls until every id settles, printing one line per state change when not a TTY', async () => {
    const seq: Record<string, string[]> = { a: ['BUILD', 'BUILD', 'ACTIVE'], b: ['BUILD', 'ERROR'] };
    const lines: string[] = [];
    const t = fakeTime();
    const labels = await waitUntilSettled(
      ['a', 'b'],
      async (id) => {
        const label = seq[id].length > 1 ? seq[id].shift()! : seq[id][0];
        return { label, settled: label !== 'BUILD' };
      },
      { timeoutSeconds: 60, ...t, stderr: { write: (s: string) => lines.push(s) }, what: 'servers' },
    );
    expect(labels).toEqual(['ACTIVE', 'ERROR']);
    expect(lines.join('')).toBe('a: BUILD\nb: BUILD\nb: ERROR\na: ACTIVE\n');
    expect(t.now()).toBe(2000);
  });

  it('gives up after --timeout naming what is still pending', async () => {
    const t = fakeTime();
    const run = waitUntilSettled(['a'], async () => ({ label: 'BUILD (spawning)', settled: false }), {
      timeoutSeconds: 5,
      ...t,
      stderr: { write: () => undefined },
      what: 'servers',
    });
    await expect(run).rejects.toThrow(DeadlineExceededError);
    await expect(
      waitUntilSettled(['a'], async () => ({ label: 'BUILD (spawning)', settled: false }), { timeoutSeconds: 5, ...fakeTime(), stderr: { write: () => undefined }, what: 's' }),
    ).rejects.toThrow('timed out after 5 s waiting for a (BUILD (spawning))');
    expect(t.now()).toBe(5000);
  });
});
