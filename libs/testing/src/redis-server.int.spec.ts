import Redis from 'ioredis';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import { probeRedis } from './readiness';
import { startRedisServer } from './redis-server';
import type { RedisServerHandle } from './server-handle';

jest.setTimeout(30_000);

// These suites test servers they own; an external REDIS_URL from the caller's env is restored afterwards.
const callerUrl = process.env.REDIS_URL;
beforeAll(() => void delete process.env.REDIS_URL);
afterAll(() => {
  if (callerUrl !== undefined) process.env.REDIS_URL = callerUrl;
});

const isAlive = (pid: number | undefined) => {
  try {
    return pid !== undefined && (process.kill(pid, 0), true);
  } catch {
    return false;
  }
};

describe('startRedisServer (local redis-server)', () => {
  const servers: RedisServerHandle[] = [];
  const clients: Redis[] = [];
  const start = async (opts?: Parameters<typeof startRedisServer>[0]) => {
    const server = await startRedisServer(opts);
    servers.push(server);
    return server;
  };
  const connect = (server: RedisServerHandle) => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    clients.push(client);
    return client;
  };
  afterAll(async () => {
    clients.forEach((c) => c.disconnect());
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('serves SET/GET at the returned url and port', async () => {
    const server = await start();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(isAlive(server.pid)).toBe(true);
    const redis = connect(server);
    await redis.set('mc:test:k', 'v1');
    expect(await redis.get('mc:test:k')).toBe('v1');
  });

  it('with an ACL, refuses unauthenticated clients (NOAUTH) and keeps each user to its key patterns', async () => {
    const server = await start({ acl: 'user default off\nuser svc on >svc-pw resetkeys ~mc:svc:* +@all -@dangerous\n' });
    const anon = connect(server);
    await expect(anon.get('mc:svc:k')).rejects.toThrow(/^NOAUTH/);
    const svc = new Redis(server.url.replace('redis://', 'redis://svc:svc-pw@'), { maxRetriesPerRequest: 1 });
    clients.push(svc);
    await svc.set('mc:svc:k', 'v');
    expect(await svc.get('mc:svc:k')).toBe('v');
    await expect(svc.get('mc:other:k')).rejects.toThrow(/^NOPERM/);
    await expect(svc.flushall()).rejects.toThrow(/^NOPERM/);
  });

  it('with appendOnly, kill -9 then restart keeps acknowledged writes, on the same port', async () => {
    const server = await start({ appendOnly: true });
    const { port, pid: firstPid } = server;
    const before = connect(server);
    await before.set('mc:test:durable', 'kept');
    await before.incrby('mc:test:counter', 7);
    before.disconnect();

    await server.kill('SIGKILL');
    expect(isAlive(firstPid)).toBe(false);
    expect(await probeRedis('127.0.0.1', port)).toBe(false);

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(firstPid);
    const after = connect(server);
    expect(await after.get('mc:test:durable')).toBe('kept');
    expect(await after.get('mc:test:counter')).toBe('7');
  });

  it('without appendOnly, data does not survive a restart', async () => {
    const server = await start();
    const before = connect(server);
    await before.set('mc:test:volatile', 'x');
    before.disconnect();
    await server.kill();
    await server.restart();
    expect(await connect(server).get('mc:test:volatile')).toBeNull();
  });

  it('pause freezes the server until resume; commands sent meanwhile complete after', async () => {
    const server = await start();
    const redis = connect(server);
    await redis.ping();
    server.pause();
    const pending = redis.set('mc:test:paused', 'later');
    const outcome = await Promise.race([pending.then(() => 'answered'), new Promise((r) => setTimeout(() => r('frozen'), 300))]);
    expect(outcome).toBe('frozen');
    expect(await probeRedis('127.0.0.1', server.port)).toBe(false);
    server.resume();
    await expect(pending).resolves.toBe('OK');
    expect(await redis.get('mc:test:paused')).toBe('later');
  });

  it('stop ends the process (even when paused) and pause afterwards is refused', async () => {
    const server = await start();
    const pid = server.pid;
    server.pause();
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    expect(() => server.pause()).toThrow(FailedPreconditionError);
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it('fails fast with the server output when redis-server cannot start', async () => {
    const err = (await startRedisServer({ appendOnly: true, dir: '/nonexistent/minicloud-aof' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect(err.message).toMatch(/redis-server on port \d+ exited before it was ready/);
    expect(err.message).toMatch(/nonexistent/);
  });
});

describe('startRedisServer with REDIS_URL', () => {
  let real: RedisServerHandle;
  beforeAll(async () => {
    real = await startRedisServer();
  });
  afterAll(async () => {
    delete process.env.REDIS_URL;
    await real.stop();
  });

  it('returns a handle to the external server that cannot be killed and whose stop is a no-op', async () => {
    process.env.REDIS_URL = real.url;
    const external = await startRedisServer({ appendOnly: true });
    delete process.env.REDIS_URL;
    expect(external).toMatchObject({ url: real.url, port: real.port });
    expect(external.pid).toBeUndefined();
    await expect(external.kill()).rejects.toThrow('external server: cannot kill');
    await external.stop();
    expect(await probeRedis('127.0.0.1', real.port)).toBe(true);
  });
});
