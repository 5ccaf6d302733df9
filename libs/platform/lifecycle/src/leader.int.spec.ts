import { silentLogger } from '@minicloud/platform-logging';
import { connectRedis, defineLuaScript, type Redis } from '@minicloud/platform-state';
import { startRedisServer, waitFor, type RedisServerHandle } from '@minicloud/testing';
import { defineFenceableLuaScript, isLeaderFenceLost, LeaderElector, leaderFenceCheckLua, leaderOnly } from './leader';

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

  it("a leader-only write guarded by the fencing token lands for the current leader only, never for a stale one", async () => {
    const r = await client();
    const write = defineLuaScript(r, leaderFenceCheckLua(1, 1) + "redis.call('INCR', KEYS[2]) return 1");
    const a = new LeaderElector(r, { key: 'mc:test:fenced-leader', ttlMs: 300, logger: silentLogger(), holderId: 'a' });
    const stopA = new AbortController();
    const runA = a.start(stopA.signal);
    await waitFor(() => a.isLeader());
    const staleToken = a.fencingToken()!;
    expect(await write(['mc:test:fenced-leader', 'mc:test:fenced-count'], [staleToken])).toBe(1);
    // a's term ends (here it stops and releases the lease; a stalled leader's lease expires) and b takes over with a higher token.
    stopA.abort();
    await runA;
    const b = new LeaderElector(await client(), { key: 'mc:test:fenced-leader', ttlMs: 300, logger: silentLogger(), holderId: 'b' });
    const stopB = new AbortController();
    const runB = b.start(stopB.signal);
    await waitFor(() => b.isLeader());
    expect(b.fencingToken()).toBeGreaterThan(staleToken);
    expect(await write(['mc:test:fenced-leader', 'mc:test:fenced-count'], [staleToken])).toBe(-2);
    expect(await write(['mc:test:fenced-leader', 'mc:test:fenced-count'], [b.fencingToken()!])).toBe(1);
    stopB.abort();
    await runB;
    // No lease at all: nobody writes.
    expect(await write(['mc:test:fenced-leader', 'mc:test:fenced-count'], [b.fencingToken()!])).toBe(-2);
    expect(await r.get('mc:test:fenced-count')).toBe('2');
  });

  it('a fenceable script runs plain without a fence, and with one throws LeaderFenceLostError for a stale token or none, writing nothing', async () => {
    const r = await client();
    const incr = defineFenceableLuaScript(r, "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, 1);
    await r.set('mc:test:lease3', 'b|9');
    const refusal = (p: Promise<unknown>) => p.then(() => 'written', (e: unknown) => (isLeaderFenceLost(e) ? e.message : String(e)));
    expect(await incr(['mc:test:n'], [2])).toBe(2);
    expect(await incr(['mc:test:n'], [3], { key: 'mc:test:lease3', token: () => 9 })).toBe(5);
    expect(await refusal(incr(['mc:test:n'], [3], { key: 'mc:test:lease3', token: () => 8 }, 'the counter'))).toBe('the counter: not written, this replica no longer holds the leader lease with fencing token 8');
    expect(await refusal(incr(['mc:test:n'], [3], { key: 'mc:test:lease3', token: () => undefined }, 'the counter'))).toBe('the counter: not written, this replica no longer holds the leader lease');
    expect(await r.get('mc:test:n')).toBe('5');
  });
});
