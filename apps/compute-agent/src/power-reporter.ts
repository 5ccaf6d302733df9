import { events } from '@minicloud/proto';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';
import { toProtoPowerState } from './api/mapping';
import type { PowerReport } from './simulated-host';

/**
 * Publishes power-state reports to JetStream (events.InstancePowerStateReported) one after another,
 * so the stream order matches the per-host sequence. A failed publish is retried a few times then logged
 * (the controller's periodic resync via ListInstances/heartbeats catches what is lost).
 */
export function createPowerReporter(bus: Bus, logger: Logger): { report: (r: PowerReport) => void; flush: () => Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  const publish = async (r: PowerReport) => {
    const ev = {
      meta: { eventId: `${r.hostId}:${r.sequence}`, occurredAt: new Date(), source: 'compute-agent' },
      instanceId: r.instanceId, hostId: r.hostId, epoch: r.epoch, powerState: toProtoPowerState(r.powerState),
      reason: r.reason, error: r.error, sequence: r.sequence,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await bus.publishEvent(Subjects.powerStateReported, events.InstancePowerStateReported, ev);
      } catch (e) {
        if (attempt >= 5) return void logger.error({ err: e, instance_id: r.instanceId, reason: r.reason }, 'power-state report lost');
        await new Promise((res) => setTimeout(res, 100 * 2 ** attempt));
      }
    }
  };
  return {
    report: (r) => {
      chain = chain.then(() => publish(r));
    },
    flush: () => chain,
  };
}
