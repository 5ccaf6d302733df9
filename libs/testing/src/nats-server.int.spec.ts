import { connect, StringCodec, type NatsConnection } from 'nats';
import { startNatsServer } from './nats-server';
import { probeNats } from './readiness';
import type { NatsServerHandle } from './server-handle';

jest.setTimeout(30_000);

// These suites test servers they own; an external NATS_URL from the caller's env is restored afterwards.
const callerUrl = process.env.NATS_URL;
beforeAll(() => void delete process.env.NATS_URL);
afterAll(() => {
  if (callerUrl !== undefined) process.env.NATS_URL = callerUrl;
});

const sc = StringCodec();

describe('startNatsServer (local nats-server -js)', () => {
  let server: NatsServerHandle;
  const connections: NatsConnection[] = [];
  const open = async () => {
    const nc = await connect({ servers: server.url, reconnect: false });
    connections.push(nc);
    return nc;
  };
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(connections.map((nc) => (nc.isClosed() ? undefined : nc.close())));
    await server.stop();
  });

  it('delivers a core publish to a subscriber', async () => {
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    const nc = await open();
    const sub = nc.subscribe('minicloud.hb.host.h1', { max: 1 });
    nc.publish('minicloud.hb.host.h1', sc.encode('beat'));
    for await (const msg of sub) expect(sc.decode(msg.data)).toBe('beat');
    expect(sub.getProcessed()).toBe(1);
  });

  it('has JetStream: stream add, publish with ack, and the stream survives kill -9 + restart', async () => {
    const nc = await open();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'MC_TEST', subjects: ['minicloud.test.>'] });
    const ack = await nc.jetstream().publish('minicloud.test.created', sc.encode('vm-1'));
    expect(ack).toMatchObject({ stream: 'MC_TEST', seq: 1 });
    await nc.close();

    const { port } = server;
    await server.kill('SIGKILL');
    await server.restart();
    expect(server.port).toBe(port);

    const again = await open();
    const info = await (await again.jetstreamManager()).streams.info('MC_TEST');
    expect(info.state.messages).toBe(1);
  });

  it('pause stops answering new clients until resume', async () => {
    server.pause();
    try {
      expect(await probeNats('127.0.0.1', server.port)).toBe(false);
    } finally {
      server.resume();
    }
    expect(await probeNats('127.0.0.1', server.port)).toBe(true);
    const nc = await open();
    await expect(nc.flush()).resolves.toBeUndefined();
  });
});

describe('startNatsServer with NATS_URL', () => {
  it('returns a handle to the external server that cannot be killed', async () => {
    process.env.NATS_URL = 'nats://127.0.0.1:4999';
    try {
      const external = await startNatsServer();
      expect(external).toMatchObject({ url: 'nats://127.0.0.1:4999', port: 4999 });
      expect(external.pid).toBeUndefined();
      await expect(external.kill()).rejects.toThrow('external server: cannot kill');
      await expect(external.stop()).resolves.toBeUndefined();
    } finally {
      delete process.env.NATS_URL;
    }
  });
});
