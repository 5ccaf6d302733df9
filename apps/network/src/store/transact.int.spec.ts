import { silentLogger } from '@minicloud/platform-logging';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startRedisServer, type ServerHandle } from '@minicloud/testing';
import { ANY, createClaim, createTransact, type Claim, type Transact } from './transact';

let server: ServerHandle;
let redis: Redis;
let transact: Transact;
let claim: Claim;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, name: 'transact-test', logger: silentLogger() });
  transact = createTransact(redis);
  claim = createClaim(redis);
}, 30_000);
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});
beforeEach(() => redis.flushall());

const written = { ok: true, counts: [], generations: new Map() };

describe('transact', () => {
  it('creates only when absent, and then compares the whole stored value', async () => {
    expect(await transact({ key: 'r', expected: '', next: 'v1', ops: [{ kind: 'sadd', key: 'idx', a1: 'r' }] })).toEqual(written);
    expect(await transact({ key: 'r', expected: '', next: 'v2' })).toEqual({ ok: false, conflict: true });
    expect(await transact({ key: 'r', expected: 'stale', next: 'v2' })).toEqual({ ok: false, conflict: true });
    expect(await redis.get('r')).toBe('v1');
    expect(await transact({ key: 'r', expected: 'v1', next: '', ops: [{ kind: 'srem', key: 'idx', a1: 'r' }] })).toEqual(written);
    expect(await redis.keys('*')).toEqual([]);
  });

  it('writes nothing when a guard fails and says which one', async () => {
    await redis.sadd('busy', 'x');
    const res = await transact({ key: 'r', expected: '', next: 'v', guards: [{ kind: 'absent', key: 'nothing' }, { kind: 'empty', key: 'busy' }], ops: [{ kind: 'sadd', key: 'idx', a1: 'r' }] });
    expect(res).toEqual({ ok: false, conflict: false, guardIndex: 1 });
    expect((await redis.keys('*')).sort()).toEqual(['busy']);
  });

  it('a below guard passes while the hash field (0 when absent) is under the limit', async () => {
    const create = (id: string) =>
      transact({ key: id, expected: '', next: 'v', guards: [{ kind: 'below', key: 'counts', field: 'p1', limit: 2 }], ops: [{ kind: 'hincr', key: 'counts', a1: 'p1', a2: '1' }] });
    expect(await create('a')).toMatchObject({ ok: true });
    expect(await create('b')).toMatchObject({ ok: true });
    expect(await create('c')).toEqual({ ok: false, conflict: false, guardIndex: 0 });
    expect(await redis.exists('c')).toBe(0);
    expect(await redis.hget('counts', 'p1')).toBe('2');
  });

  it('delifeq frees a claim only while the owner still holds it; ANY leaves the record alone', async () => {
    await redis.set('claim:a', 'me');
    await redis.set('claim:b', 'someone-else');
    const ops = [{ kind: 'delifeq' as const, key: 'claim:a', a1: 'me' }, { kind: 'delifeq' as const, key: 'claim:b', a1: 'me' }];
    expect(await transact({ key: 'r', expected: ANY, next: ANY, ops })).toEqual(written);
    expect(await redis.keys('*')).toEqual(['claim:b']);
  });

  it('hincr keeps a counter index (a field at 0 is dropped) and bump increments the generation of every indexed and named host', async () => {
    await redis.hset('net:hosts', 'h1', '1', 'h2', '2');
    await redis.set('gen:h1', '7');
    const res = await transact({
      key: 'port',
      expected: '',
      next: 'bound',
      ops: [
        { kind: 'hincr', key: 'net:hosts', a1: 'h1', a2: '-1' },
        { kind: 'hincr', key: 'net:hosts', a1: 'h3', a2: '1' },
      ],
      bump: { indexKeys: ['net:hosts', 'routed:hosts'], hosts: ['h1', 'h4', ''], generationPrefix: 'gen:' },
    });
    expect(res).toEqual({ ok: true, counts: [0, 1], generations: new Map([['h2', 1], ['h3', 1], ['h1', 8], ['h4', 1]]) });
    expect(await redis.hgetall('net:hosts')).toEqual({ h2: '2', h3: '1' });
  });

  it('a refused write bumps no generation', async () => {
    await redis.set('port', 'other');
    await redis.hset('net:hosts', 'h1', '1');
    const res = await transact({ key: 'port', expected: 'stale', next: 'x', ops: [{ kind: 'hincr', key: 'net:hosts', a1: 'h1', a2: '1' }], bump: { indexKeys: ['net:hosts'], hosts: ['h2'], generationPrefix: 'gen:' } });
    expect(res).toEqual({ ok: false, conflict: true });
    expect(await redis.keys('gen:*')).toEqual([]);
    expect(await redis.hgetall('net:hosts')).toEqual({ h1: '1' });
  });
});

describe('claim', () => {
  it('lets exactly one of many concurrent claimers win, and indexes the member', async () => {
    await redis.set('subnet', '{}');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => claim({ key: 'ip:1', owner: `p${i}`, parent: 'subnet', index: { key: 'ips', member: '10.0.0.2' } })));
    expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(await redis.smembers('ips')).toEqual(['10.0.0.2']);
  });

  it('refuses when the parent is gone, writing nothing', async () => {
    expect(await claim({ key: 'ip:1', owner: 'p', parent: 'subnet', index: { key: 'ips', member: 'x' } })).toBe('no_parent');
    expect(await redis.keys('*')).toEqual([]);
  });
});
