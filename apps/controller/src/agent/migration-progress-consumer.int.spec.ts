/**
 * The controller's migration-progress consumer over a real NATS JetStream: an event on the source
 * host's subject is applied; one whose payload names another source host than its subject (an agent
 * speaking for a migration it does not run) is dropped and reported.
 */
import { events } from '@minicloud/proto';
import { connectBus, migrationProgressedSubject, type Bus } from '@minicloud/platform-bus';
import { silentLogger } from '@minicloud/platform-logging';
import { startNatsServer, waitFor, type NatsServerHandle } from '@minicloud/testing';
import { migrationProgressConsumer } from './power-report-consumer';

describe('migration progress consumer', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await connectBus({ url: nats.url, name: 'controller-test', logger: silentLogger() });
  });
  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it('applies progress published on its source host\'s subject and drops one naming another source host', async () => {
    const applied: string[] = [];
    const forged: { id: string; subject: string }[] = [];
    const abort = new AbortController();
    const running = migrationProgressConsumer(bus, async (m) => void applied.push(m.id), { onForged: (ev, subject) => void forged.push({ id: ev.migration!.id, subject }) }).start(abort.signal);
    const progress = (id: string, sourceHostId: string) => ({ migration: { id, instanceId: `vm-${id}`, sourceHostId, destHostId: 'host-c', status: 'completed' } });
    await bus.publishEvent(migrationProgressedSubject('host-a'), events.MigrationProgressed, progress('forged', 'host-b'));
    await bus.publishEvent(migrationProgressedSubject('host-a'), events.MigrationProgressed, progress('genuine', 'host-a'));
    await waitFor(() => applied.length + forged.length === 2, { timeoutMs: 10_000, message: 'both events consumed' });
    expect(applied).toEqual(['genuine']);
    expect(forged).toEqual([{ id: 'forged', subject: migrationProgressedSubject('host-a') }]);
    abort.abort();
    await running;
  });
});
