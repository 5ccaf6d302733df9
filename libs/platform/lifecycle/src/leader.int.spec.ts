import { silentLogger } from '@minicloud/platform-logging';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startRedisServer, waitFor, type RedisServerHandle } from '@minicloud/testing';
import { LeaderElector, leaderOnly } from './leader';

describe('leader election on a Redis lease with a fencing token (real redis-server)', () => {
  let server: RedisServerHandle;
  const clients: Redis[] = [];
  const client = async () => {
    const r = await connectRedis({ url: server.url, name: 'test', logger: silentLogger() });
    clients.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  it('elects one leader; a successor gets a higher fencing token; leader-only work follows leadership', async () => {
    const a = new LeaderElector(await client(), { key: 'mc:test:leader', ttlMs: 300, logger: silentLogger(), holderId: 'a' });
    const b = new LeaderElector(await client(), { key: 'mc:test:leader', ttlMs: 300, logger: silentLogger(), holderId: 'b' });
    const runs: string[] = [];
    const work = (name: string) => ({
      name,
      start: async (signal: AbortSignal) => {
        runs.push(`${name}:start`);
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        runs.push(`${name}:stop`);
      },
    });
    const stopA = new AbortController();
    const stopB = new AbortController();
    const loops = [
      a.start(stopA.signal),
      leaderOnly(a, work('a')).start(stopA.signal),
      b.start(stopB.signal),
      leaderOnly(b, work('b')).start(stopB.signal),
    ];
    await waitFor(() => a.isLeader() || b.isLeader());
    await waitFor(() => runs.length === 1);
    const [first, second] = a.isLeader() ? [a, b] : [b, a];
    expect(second.isLeader()).toBe(false);
    const firstToken = first.fencingToken()!;
    // the leader steps down (graceful: it releases the lease) and the other takes over
    (first === a ? stopA : stopB).abort();
    await waitFor(() => second.isLeader(), { timeoutMs: 3000 });
    expect(second.fencingToken()!).toBeGreaterThan(firstToken);
    expect(runs).toEqual([`${first.holderId}:start`, `${first.holderId}:stop`, `${second.holderId}:start`]);
    (first === a ? stopB : stopA).abort();
    await Promise.all(loops);
    expect(runs.at(-1)).toBe(`${second.holderId}:stop`);
  });

  it('a leader cut off from Redis steps down before its lease could pass to another', async () => {
    const r = await client();
    const a = new LeaderElector(r, { key: 'mc:test:leader2', ttlMs: 600, logger: silentLogger(), holderId: 'x' });
    const stop = new AbortController();
    const loop = a.start(stop.signal);
    await waitFor(() => a.isLeader());
    server.pause();
    await waitFor(() => !a.isLeader(), { timeoutMs: 3000 });
    server.resume();
    await waitFor(() => a.isLeader(), { timeoutMs: 5000 });
    stop.abort();
    await loop;
  });
});
