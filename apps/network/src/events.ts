import { events } from '@minicloud/proto';
import { fdbUpdatedSubject, type Bus, type Subjects } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';

/** The network service's NATS events. Events are hints (consumers re-read), so a failed publish is logged, not thrown. */
export interface EventPublisher {
  networkChanged(subject: typeof Subjects.networkCreated | typeof Subjects.networkDeleted, e: { networkId: string; projectId: string; segmentationId: number }, requestId?: string): Promise<void>;
  portChanged(
    subject: typeof Subjects.portCreated | typeof Subjects.portBound | typeof Subjects.portUnbound | typeof Subjects.portDeleted,
    e: { portId: string; networkId: string; projectId: string; deviceId: string; bindingHostId: string; oldBindingHostId: string },
    requestId?: string,
  ): Promise<void>;
  /** `delta` absent: the host must re-read its whole table (GetHostFdb). */
  fdbUpdated(e: { hostId: string; fdbGeneration: number; delta?: events.FdbDelta }, requestId?: string): Promise<void>;
}

/** Publishes to JetStream through the bus, with an EventMeta (source "network"). */
export function busEventPublisher(bus: Bus, logger: Logger, newId: () => string, nowMs: () => number): EventPublisher {
  const publish = async (subject: string, type: typeof events.NetworkChanged | typeof events.PortChanged | typeof events.FdbUpdated, body: object, requestId?: string) => {
    const meta = { eventId: newId(), occurredAt: new Date(nowMs()), requestId: requestId ?? '', source: 'network' };
    try {
      await bus.publishEvent(subject, type as never, { meta, ...body }, { requestId });
    } catch (err) {
      logger.warn({ err: (err as Error).message, subject }, 'event publish failed');
    }
  };
  return {
    networkChanged: (subject, e, requestId) => publish(subject, events.NetworkChanged, e, requestId),
    portChanged: (subject, e, requestId) => publish(subject, events.PortChanged, e, requestId),
    fdbUpdated: (e, requestId) => publish(fdbUpdatedSubject(e.hostId), events.FdbUpdated, e, requestId),
  };
}
