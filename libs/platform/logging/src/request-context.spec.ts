import { createLogger, currentRequestId, runWithRequestId } from './index';

describe('request context in log lines', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: 'test', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  beforeEach(() => (lines.length = 0));

  it('adds request_id to every line written while the request runs, awaits and timers included', async () => {
    await runWithRequestId('req-1', async () => {
      logger.info('first');
      await new Promise((r) => setTimeout(r, 1));
      logger.child({ component: 'c' }).warn('after a timer');
    });
    logger.info('outside');
    expect(lines.map((l) => [l.msg, l.request_id])).toEqual([
      ['first', 'req-1'],
      ['after a timer', 'req-1'],
      ['outside', undefined],
    ]);
  });

  it('lets a request_id given in the log call win, and nests', () => {
    runWithRequestId('outer', () => {
      logger.info({ request_id: 'explicit' }, 'given');
      runWithRequestId('inner', () => logger.info('nested'));
      expect(currentRequestId()).toBe('outer');
    });
    expect(lines.map((l) => l.request_id)).toEqual(['explicit', 'inner']);
  });

  it('runs an empty id as part of no request, even inside another one', () => {
    runWithRequestId('outer', () => {
      expect(runWithRequestId('', () => currentRequestId())).toBeUndefined();
      expect(runWithRequestId(undefined, () => currentRequestId())).toBeUndefined();
      expect(currentRequestId()).toBe('outer');
    });
    expect(runWithRequestId(undefined, () => 7)).toBe(7);
  });
});
