import { events } from '@minicloud/proto';
import { createLogger, currentRequestId, runWithRequestId, silentLogger } from '@minicloud/platform-logging';
import { startNatsServer, waitFor, type NatsServerHandle } from '@minicloud/testing';
import { connectBus, type Bus } from './bus';
import { Subjects, heartbeatSubject, HEARTBEAT_WILDCARD } from './subjects';

// Real servers on a shared 2-core CI machine: Jest's 5 s default is too tight for a redelivery round.
jest.setTimeout(30_000);

describe('bus (real nats-server with JetStream)', () => {
  let nats: NatsServerHandle;
  const buses: Bus[] = [];
  const open = async (name: string) => {
    const b = await connectBus({ url: nats.url, name, logger: silentLogger() });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => undefined);
    await nats.stop();
  });

  it('a durable consumer that restarts misses nothing and sees each event once when it acks', async () => {
    const producer = await open('producer');
    const seen: string[] = [];
    const consumer1 = await open('consumer-1');
    const c1 = await consumer1.consumeEvents({
      durable: 'test-controller',
      filterSubject: Subjects.instanceStateChanged,
      type: events.InstanceStateChanged,
      handler: (ev) => void seen.push(ev.instanceId),
    });
    await producer.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId: 'a' });
    await waitFor(() => seen.length === 1);
    await c1.stop();
    // published while nobody consumes
    await producer.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId: 'b' });
    await producer.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId: 'c' });
    const consumer2 = await open('consumer-2');
    await consumer2.consumeEvents({
      durable: 'test-controller',
      filterSubject: Subjects.instanceStateChanged,
      type: events.InstanceStateChanged,
      handler: (ev) => void seen.push(ev.instanceId),
    });
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('redelivers an event whose handler failed', async () => {
    const producer = await open('producer-2');
    const consumer = await open('consumer-3');
    let attempts = 0;
    const done: string[] = [];
    await consumer.consumeEvents({
      durable: 'test-retry',
      filterSubject: Subjects.hostRegistered,
      type: events.HostRegistered,
      ackWaitMs: 1000,
      handler: (ev, env) => {
        attempts++;
        if (attempts === 1) throw new Error('transient');
        expect(env.redelivered).toBe(true);
        done.push(ev.hostId);
      },
    });
    await producer.publishEvent(Subjects.hostRegistered, events.HostRegistered, { hostId: 'host-1', epoch: 3 });
    // generous: under a loaded CI machine the nak -> redelivery round can take seconds
    await waitFor(() => done.length === 1, { timeoutMs: 15_000 });
    expect(attempts).toBe(2);
  });

  it('with concurrency, overlaps the handlers of different keys and keeps one key\'s events in stream order', async () => {
    const producer = await open('producer-conc');
    const consumer = await open('consumer-conc');
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    // Key a's first event is held until key b's event has run: possible only when keys overlap.
    let releaseA!: () => void;
    const aHeld = new Promise<void>((r) => (releaseA = r));
    await consumer.consumeEvents({
      durable: 'test-concurrent',
      filterSubject: Subjects.instanceStateChanged,
      // Not the earlier tests' events on this subject.
      deliverNew: true,
      type: events.InstanceStateChanged,
      concurrency: 4,
      keyOf: (ev) => ev.instanceId,
      handler: async (ev) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (ev.instanceId === 'a' && ev.hostId === '1') await aHeld;
        if (ev.instanceId === 'b') releaseA();
        order.push(`${ev.instanceId}${ev.hostId}`);
        running--;
      },
    });
    for (const [instanceId, hostId] of [['a', '1'], ['a', '2'], ['b', '1']]) {
      await producer.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId, hostId });
    }
    await waitFor(() => order.length === 3);
    expect(order).toEqual(['b1', 'a1', 'a2']);
    expect(maxRunning).toBe(2);
  });

  it('carries heartbeats on core NATS', async () => {
    const a = await open('agent');
    const c = await open('controller');
    const got: { hostId: string; sequence: number }[] = [];
    c.subscribe(HEARTBEAT_WILDCARD, events.Heartbeat, (hb) => void got.push({ hostId: hb.hostId, sequence: hb.sequence }));
    await c.nc.flush();
    a.publishCore(heartbeatSubject('host-9'), events.Heartbeat, { hostId: 'host-9', epoch: 1, sequence: 42 });
    await waitFor(() => got.length === 1);
    expect(got[0]).toEqual({ hostId: 'host-9', sequence: 42 });
    expect(a.isConnected()).toBe(true);
  });

  it('carries the request id in a header from publish to consume and into the handler\'s log lines', async () => {
    const producer = await open('producer-rid');
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ service: 'consumer', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    const consumer = await connectBus({ url: nats.url, name: 'consumer-rid', logger });
    buses.push(consumer);
    const seen: { id: string; header?: string; context?: string }[] = [];
    const record = (id: string, header?: string) => {
      seen.push({ id, header, context: currentRequestId() });
      logger.info({ instance_id: id }, 'event handled');
    };
    await consumer.consumeEvents({
      durable: 'test-request-id',
      filterSubject: Subjects.instanceStateChanged,
      type: events.InstanceStateChanged,
      deliverNew: true,
      handler: async (ev, env) => {
        await new Promise((r) => setTimeout(r, 1));
        record(ev.instanceId, env.requestId);
      },
    });
    consumer.subscribe(heartbeatSubject('host-rid'), events.Heartbeat, (hb, env) => record(hb.hostId, env.requestId));
    await consumer.nc.flush();

    // JetStream: the id of the request being handled, and an explicit one.
    await runWithRequestId('req-js-1', () => producer.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId: 'i-1' }));
    await producer.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId: 'i-2' }, { requestId: 'req-js-2' });
    // Core NATS: only while a request is handled.
    runWithRequestId('req-core-1', () => producer.publishCore(heartbeatSubject('host-rid'), events.Heartbeat, { hostId: 'host-rid' }));
    await waitFor(() => seen.length >= 3);

    expect(seen).toHaveLength(3);
    expect(seen).toEqual(
      expect.arrayContaining([
        { id: 'i-1', header: 'req-js-1', context: 'req-js-1' },
        { id: 'i-2', header: 'req-js-2', context: 'req-js-2' },
        { id: 'host-rid', header: 'req-core-1', context: 'req-core-1' },
      ]),
    );
    const logged = Object.fromEntries(lines.filter((l) => l.msg === 'event handled').map((l) => [l.instance_id, l.request_id]));
    expect(logged).toEqual({ 'i-1': 'req-js-1', 'i-2': 'req-js-2', 'host-rid': 'req-core-1' });
    expect(currentRequestId()).toBeUndefined();
  });
});
