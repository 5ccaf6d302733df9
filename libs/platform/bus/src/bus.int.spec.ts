import { events } from '@minicloud/proto';
import { silentLogger } from '@minicloud/platform-logging';
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
});
