import { events, type MessageType } from '@minicloud/proto';
import { MIGRATION_PROGRESSED_WILDCARD, migrationProgressedSubject, POWER_STATE_REPORTED_WILDCARD, powerStateReportedSubject, type Bus, type EventEnvelope } from '@minicloud/platform-bus';
import type { Runnable } from '@minicloud/platform-lifecycle';

/** Durable JetStream consumer of agents' power-state reports (shared by replicas: each report goes to one). */
export const POWER_REPORT_CONSUMER = 'controller-power-state';
/**
 * Durable JetStream consumer of source agents' MigrationProgressed events (on every source host's
 * subject). Named apart from the earlier consumer of the single, unbound subject, whose filter a
 * kept state dir still holds: a durable's filter is not rewritten when it exists.
 */
export const MIGRATION_PROGRESS_CONSUMER = 'controller-migration-progress-by-host';

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}

/**
 * A Runnable consuming one durable JetStream consumer of agent events until aborted (a handler's
 * throw leaves the event unacked: it is redelivered after `ackWaitMs`, 30 s).
 */
export function agentEventConsumer<T>(
  name: string,
  bus: Bus,
  opts: { durable: string; filterSubject: string; type: MessageType<T>; handler: (ev: T, env: EventEnvelope) => Promise<void>; concurrency?: number; keyOf?: (ev: T) => string },
): Runnable {
  return {
    name,
    async start(signal) {
      const consumer = await bus.consumeEvents({
        durable: opts.durable,
        filterSubject: opts.filterSubject,
        type: opts.type,
        handler: opts.handler,
        ackWaitMs: 30_000,
        concurrency: opts.concurrency,
        keyOf: opts.keyOf,
      });
      await aborted(signal);
      await consumer.stop();
    },
  };
}

/**
 * The power-report consumer: every InstancePowerStateReported an agent publishes (spawned,
 * spawn_failed, powered_off, migrated_in...) goes to `apply` (Conductor.handlePowerReport: ignored
 * when its epoch is stale, else completes the build or action, or updates power_state).
 * Up to `concurrency` reports are applied at once, one instance's reports still in order: one at a
 * time, the reports of a burst of builds queued behind each other's Redis and NATS round trips.
 */
export function powerReportConsumer(
  bus: Bus,
  apply: (ev: events.InstancePowerStateReported) => Promise<void>,
  opts: { concurrency?: number; onForged?: (ev: events.InstancePowerStateReported, subject: string) => void } = {},
): Runnable {
  return agentEventConsumer('power-report-consumer', bus, {
    durable: POWER_REPORT_CONSUMER,
    filterSubject: POWER_STATE_REPORTED_WILDCARD,
    type: events.InstancePowerStateReported,
    // The NATS server lets an agent publish only on its own hosts' subjects; a payload naming another
    // host than its subject is a forgery (or a bug) and is dropped, acked, never applied.
    handler: async (ev, env) => {
      if (env.subject !== powerStateReportedSubject(ev.hostId)) return opts.onForged?.(ev, env.subject);
      await apply(ev);
    },
    concurrency: opts.concurrency ?? 1,
    keyOf: (ev) => ev.instanceId,
  });
}

/**
 * The live-migration progress consumer: source agents' MigrationProgressed go to `apply`
 * (MigrationWorker.onProgress). An event whose payload names another source host than its subject
 * (an agent speaking for a migration it does not run) is dropped, acked, never applied.
 */
export function migrationProgressConsumer(
  bus: Bus,
  apply: (m: NonNullable<events.MigrationProgressed['migration']>) => Promise<void>,
  opts: { onForged?: (ev: events.MigrationProgressed, subject: string) => void } = {},
): Runnable {
  return agentEventConsumer('migration-progress-consumer', bus, {
    durable: MIGRATION_PROGRESS_CONSUMER,
    filterSubject: MIGRATION_PROGRESSED_WILDCARD,
    type: events.MigrationProgressed,
    handler: async (ev, env) => {
      if (!ev.migration) return;
      if (env.subject !== migrationProgressedSubject(ev.migration.sourceHostId)) return opts.onForged?.(ev, env.subject);
      await apply(ev.migration);
    },
  });
}
