import { events } from '@minicloud/proto';
import { silentLogger } from '@minicloud/platform-logging';
import { startNatsServer, waitFor, type NatsServerHandle } from '@minicloud/testing';
import { connectBus, inboxPrefixOf, natsConnectionOptions, type Bus } from './bus';
import { heartbeatSubject, Subjects } from './subjects';

jest.setTimeout(30_000);

/**
 * The bus against a nats-server that requires authentication with per-user permissions, as the
 * bring-up runs it: credentials from the URL, replies on the user's own inbox prefix, and a user
 * allowed only to read the EVENTS stream's info connecting once a service has created the stream.
 */
describe('bus (real nats-server with users and permissions)', () => {
  let nats: NatsServerHandle;
  const buses: Bus[] = [];
  const urlAs = (user: string, password: string) => nats.url.replace('nats://', `nats://${user}:${password}@`);
  const open = async (user: string, password: string) => {
    const b = await connectBus({ url: urlAs(user, password), name: user, logger: silentLogger() });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    const config = {
      authorization: {
        users: [
          {
            user: 'svc',
            password: 'svc-pw',
            permissions: {
              publish: { allow: ['minicloud.evt.compute.>', '$JS.API.>', '$JS.ACK.>', 'minicloud.overlay.trace.*'] },
              subscribe: { allow: ['minicloud.evt.>', 'minicloud.hb.host.*', `${inboxPrefixOf('svc')}.>`] },
            },
          },
          {
            user: 'agent-a',
            password: 'agent-pw',
            permissions: {
              publish: { allow: [heartbeatSubject('host-a'), '$JS.API.INFO', '$JS.API.STREAM.INFO.EVENTS'] },
              subscribe: { allow: ['minicloud.overlay.trace.host-a', `${inboxPrefixOf('agent-a')}.>`] },
              allow_responses: true,
            },
          },
        ],
      },
    };
    nats = await startNatsServer({ config: JSON.stringify(config) });
  });
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => undefined);
    await nats.stop();
  });

  it('splits credentials out of the URL (the nats client does not read them there)', () => {
    expect(natsConnectionOptions('nats://agent-a:p%40ss@127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'], user: 'agent-a', pass: 'p@ss' });
    expect(natsConnectionOptions('nats://127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'] });
    expect(inboxPrefixOf('agent-a')).toBe('_INBOX_agent-a');
  });

  it('a service creates the stream and publishes to it; an agent allowed only stream info connects afterwards, heartbeats, and answers requests', async () => {
    const svc = await open('svc', 'svc-pw');
    const agent = await open('agent-a', 'agent-pw');
    const beats: string[] = [];
    svc.subscribe('minicloud.hb.host.*', events.Heartbeat, (hb, env) => void beats.push(`${env.subject}:${hb.hostId}`));
    await svc.nc.flush();
    agent.publishCore(heartbeatSubject('host-a'), events.Heartbeat, { hostId: 'host-a' });
    await waitFor(() => beats.length === 1);
    expect(beats).toEqual(['minicloud.hb.host.host-a:host-a']);

    agent.nc.subscribe('minicloud.overlay.trace.host-a', { callback: (_e, m) => m.respond(new TextEncoder().encode('traced')) });
    await agent.nc.flush();
    const reply = await svc.nc.request('minicloud.overlay.trace.host-a', new Uint8Array(), { timeout: 5000 });
    expect(new TextDecoder().decode(reply.data)).toBe('traced');

    // JetStream's publish acknowledgement comes back on the service's own inbox.
    await expect(svc.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, { instanceId: 'i-1' })).resolves.toBeUndefined();
  });

  it('a wrong password is refused (the client gives up after the same authorization error twice)', async () => {
    await expect(connectBus({ url: urlAs('svc', 'wrong'), name: 'x', logger: silentLogger() })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });
});
