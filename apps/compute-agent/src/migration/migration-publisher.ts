import { events } from '@minicloud/proto';
import { migrationProgressedSubject, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';
import { createOrderedPublisher } from '../ordered-publisher';
import type { MigrationRecord } from './live-migrations';

/**
 * Publishes events.MigrationProgressed (JetStream, on the source host's subject
 * {@link migrationProgressedSubject}, the only one the agent may publish on) one after another, so
 * a migration's updates arrive in order; a failed publish is retried a few times then logged.
 * event_id = `<migration_id>:<n>` (n counts this process's updates of that migration).
 */
export function createMigrationPublisher(bus: Bus, logger: Logger): { publish: (r: Readonly<MigrationRecord>) => void; flush: () => Promise<void> } {
  const queue = createOrderedPublisher();
  const counts = new Map<string, number>();
  const event = (r: Readonly<MigrationRecord>, n: number) => {
    const now = new Date();
    return {
      meta: { eventId: `${r.id}:${n}`, occurredAt: now, source: 'compute-agent' },
      migration: {
        id: r.id, instanceId: r.instanceId, migrationType: 'live-migration', sourceHostId: r.sourceHostId, destHostId: r.destHostId,
        status: r.status, rounds: r.rounds, transferredBytes: r.transferredBytes, remainingBytes: r.remainingBytes, totalTimeMs: r.totalTimeMs,
        downtimeMs: r.downtimeMs, cpuThrottlePercentage: r.cpuThrottlePercentage, postCopy: r.postCopy, updatedAt: now, error: r.error,
      },
    };
  };
  return {
    publish: (r) => {
      const n = (counts.get(r.id) ?? 0) + 1;
      if (r.status === 'completed' || r.status === 'failed' || r.status === 'cancelled') counts.delete(r.id);
      else counts.set(r.id, n);
      queue.enqueue(
        () => event(r, n),
        (ev) => bus.publishEvent(migrationProgressedSubject(r.sourceHostId), events.MigrationProgressed, ev),
        (err) => logger.error({ err, migration_id: r.id, status: r.status }, 'migration progress event lost'),
      );
    },
    flush: () => queue.flush(),
  };
}
