import { events } from '@minicloud/proto';
import { powerStateReportedSubject, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';
import { toProtoPowerState } from './api/mapping';
import { createOrderedPublisher } from './ordered-publisher';
import type { PowerReport } from './simulated-host';

/**
 * Publishes power-state reports to JetStream (events.InstancePowerStateReported) one after another,
 * so the stream order matches the per-host sequence. A failed publish is retried a few times then logged
 * (the controller's periodic resync via ListInstances/heartbeats catches what is lost).
 */
export function createPowerReporter(bus: Bus, logger: Logger): { report: (r: PowerReport) => void; flush: () => Promise<void> } {
  const queue = createOrderedPublisher();
  return {
    report: (r) => {
      queue.enqueue(
        () => ({
          meta: { eventId: `${r.hostId}:${r.sequence}`, occurredAt: new Date(), source: 'compute-agent' },
          instanceId: r.instanceId, hostId: r.hostId, epoch: r.epoch, powerState: toProtoPowerState(r.powerState),
          reason: r.reason, error: r.error, sequence: r.sequence,
        }),
        (ev) => bus.publishEvent(powerStateReportedSubject(ev.hostId), events.InstancePowerStateReported, ev),
        (err) => logger.error({ err, instance_id: r.instanceId, reason: r.reason }, 'power-state report lost'),
      );
    },
    flush: () => queue.flush(),
  };
}
