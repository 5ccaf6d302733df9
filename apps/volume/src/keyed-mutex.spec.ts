import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order, and other keys concurrently', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a1 = m.run('a', async () => {
      log.push('a1 start');
      await gate;
      log.push('a1 end');
    });
    const a2 = m.run('a', async () => void log.push('a2'));
    await m.run('b', async () => void log.push('b'));
    expect(log).toEqual(['a1 start', 'b']);
    release();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('a failure does not block the next run of the key', async () => {
    const m = new KeyedMutex();
    await expect(m.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(m.run('k', async () => 42)).resolves.toBe(42);
  });
});
