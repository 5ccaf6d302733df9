import { Counter, Histogram, type Registry } from '@minicloud/platform-metrics';

/** Outcome label of `minicloud_migration_migrations_total`. */
export type MigrationOutcomeLabel = 'completed' | 'failed' | 'timeout' | 'cancelled' | 'unknown';

/** What the source records once per live migration. */
export interface MigrationMetrics {
  record(outcome: MigrationOutcomeLabel, m: { downtimeMs: number; totalTimeMs: number; rounds: number }): void;
}

/**
 * Live-migration metrics, recorded by the source agent at the end of each migration (times are
 * simulated seconds): minicloud_migration_migrations_total{outcome}, and for completed migrations
 * minicloud_migration_downtime_seconds, minicloud_migration_duration_seconds, minicloud_migration_rounds
 * (pre-copy rounds, QEMU's "dirty-sync-count").
 */
export function registerMigrationMetrics(registry: Registry): MigrationMetrics {
  const total = new Counter({
    name: 'minicloud_migration_migrations_total',
    help: 'Live migrations run by this agent as the source, by outcome (completed, failed, timeout, cancelled, unknown).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const o of ['completed', 'failed', 'timeout', 'cancelled', 'unknown']) total.inc({ outcome: o }, 0);
  const downtime = new Histogram({
    name: 'minicloud_migration_downtime_seconds',
    help: 'Guest downtime of completed live migrations (stop-and-copy or post-copy switch), simulated seconds.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'minicloud_migration_duration_seconds',
    help: 'Total time of completed live migrations, simulated seconds.',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const rounds = new Histogram({
    name: 'minicloud_migration_rounds',
    help: 'Pre-copy rounds of completed live migrations.',
    buckets: [1, 2, 3, 5, 10, 20, 50, 100],
    registers: [registry],
  });
  return {
    record(outcome, m) {
      total.inc({ outcome });
      if (outcome !== 'completed') return;
      downtime.observe(m.downtimeMs / 1000);
      duration.observe(m.totalTimeMs / 1000);
      rounds.observe(m.rounds);
    },
  };
}
